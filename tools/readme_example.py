"""Run a Python example of a Markdown file and print its output, for a generated block.

Run: ``python tools/readme_example.py README.md ID``. The example is the last fenced
```` ```python ```` block before the marker ``<!-- generated: ID -->`` in the file; it runs in a
fresh interpreter (``sys.executable -c``, from the repository root), and its standard output is
printed inside a ``text`` fence, so ``tools/regenerate_docs.py`` can put it right after the
example. Exits with the example's exit code when it fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

FENCE = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def example_before(text: str, block_id: str) -> str:
    """The source of the last ```python fence before ``<!-- generated: block_id -->``."""
    marker = f"<!-- generated: {block_id} -->"
    where = text.find(marker)
    if where < 0:
        raise ValueError(f"block id is {block_id!r}, expected a block marked {marker!r}")
    sources = [m.group(1) for m in FENCE.finditer(text, 0, where)]
    if not sources:
        raise ValueError(f"block {block_id!r} has no ```python example before it")
    return sources[-1]


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: python tools/readme_example.py FILE ID", file=sys.stderr)
        return 2
    path, block_id = Path(sys.argv[1]), sys.argv[2]
    try:
        source = example_before(path.read_text(encoding="utf-8"), block_id)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", source], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return done.returncode
    print("The example above prints:\n\n```text\n" + done.stdout.rstrip("\n") + "\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
