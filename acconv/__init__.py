"""acconv."""
