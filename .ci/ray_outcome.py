"""Print whether the Ray backend test ran, and why not when it was skipped (read from JUnit XML).

Usage: python .ci/ray_outcome.py PYTEST_JUNIT_XML. The Ray test skips when a local Ray instance
cannot start here, so a green CI run alone does not say the Ray backend was tested; this line
does. Exit code 0 whatever the outcome (the test run's own exit code decides CI).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree

NAME = "test_the_ray_backend_writes_the_same_files_as_the_local_one"


def outcome(junit_xml: str) -> str:
    try:
        tree = ElementTree.parse(junit_xml)
    except (OSError, ElementTree.ParseError) as error:
        return f"Ray test: unknown, no JUnit report ({error})"
    cases = [c for c in tree.iter("testcase") if c.get("name") == NAME]
    if not cases:
        return "Ray test: not collected (deselected or missing)"
    case = cases[0]
    seconds = float(case.get("time", "nan"))
    for kind in ("skipped", "failure", "error"):
        found = case.find(kind)
        if found is not None:
            why = " ".join((found.get("message") or found.text or "").split())
            if len(why) > 800:  # the reason's first words and the end of Ray's log
                why = f"{why[:200]} ... {why[-600:]}"
            return f"Ray test: {kind.upper()} after {seconds:.1f} s: {why}"
    return f"Ray test: RAN and passed in {seconds:.1f} s"


if __name__ == "__main__":
    print(outcome(sys.argv[1]))
