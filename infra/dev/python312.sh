#!/usr/bin/env bash
# Print the path of a Python 3.12 interpreter: python3.12 on PATH, else pyenv's, else fail.
set -euo pipefail
if command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
  command -v python3.12; exit 0
fi
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
  if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done
echo "python3.12 not found: install Python 3.12 (pyenv install 3.12)" >&2
exit 1
