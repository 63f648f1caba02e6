"""Writes the README's YAML examples to files, as a user would paste them (lint.sh):
every block with `jobs:` as DIR/.github/workflows/readme-N.yml, and the block with
`repos:` as DIR/.pre-commit-config.yaml. Prints how many workflows it wrote."""

import pathlib
import re
import sys

readme, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
blocks = re.findall(r"```yaml\n(.*?)```", readme.read_text(), re.S)
workflows = out / ".github" / "workflows"
workflows.mkdir(parents=True, exist_ok=True)
n = 0
for block in blocks:
    if "\njobs:" in block:
        n += 1
        (workflows / f"readme-{n}.yml").write_text(block)
    elif block.lstrip("# .a-z\n-").startswith("repos:") or "\nrepos:" in block:
        (out / ".pre-commit-config.yaml").write_text(block)
print(n)
