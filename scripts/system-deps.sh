#!/usr/bin/env bash
# System (Debian) packages the project needs beyond Python: checked by `make test` before anything
# else, so a fresh machine either gets them installed or stops within seconds with the command to run,
# instead of failing minutes later inside the browser test.
#
#   scripts/system-deps.sh           test needs: missing ones are installed (root + apt-get) or exit 1
#   scripts/system-deps.sh --run     run-time extras (OCR): only a note when absent, always exit 0
#
# Overrides (used by tests/test_system_deps.py; handy on other distributions too):
#   VNSEARCH_SYSDEPS       space-separated "PATH_OR_GLOB=debian-package" pairs replacing the list below
#   VNSEARCH_SYSDEPS_OPTIONAL  the same for --run
#   VNSEARCH_NO_INSTALL=1  never install, only report
#
# Only bash builtins are used before apt-get, so the check works with any PATH.
set -u

# file that proves the package is there = package; a glob matches any version folder
DEFAULT_TEST="/usr/bin/chromium=chromium
/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf=fonts-dejavu-core
/usr/bin/tesseract=tesseract-ocr
/usr/share/tesseract-ocr/*/tessdata/vie.traineddata=tesseract-ocr-vie"
DEFAULT_OPTIONAL="/usr/bin/tesseract=tesseract-ocr
/usr/share/tesseract-ocr/*/tessdata/vie.traineddata=tesseract-ocr-vie"

missing=()
check() {  # $1: newline/space separated PATH=package pairs; fills $missing (each package once)
  missing=()
  local pair path pkg seen p
  set -f  # split on whitespace but do not expand the globs yet: compgen does, per path
  for pair in $1; do  # paths here never contain spaces
    path=${pair%%=*}
    pkg=${pair#*=}
    if ! compgen -G "$path" >/dev/null; then
      seen=0
      for p in "${missing[@]+"${missing[@]}"}"; do [ "$p" = "$pkg" ] && seen=1; done
      [ $seen = 1 ] || missing+=("$pkg")
    fi
  done
  set +f
}

if [ "${1:-}" = "--run" ]; then
  check "${VNSEARCH_SYSDEPS_OPTIONAL:-$DEFAULT_OPTIONAL}"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "note: OCR of scanned PDFs is off until these are installed: sudo apt-get install -y ${missing[*]}"
  fi
  exit 0
fi

check "${VNSEARCH_SYSDEPS:-$DEFAULT_TEST}"
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y ${missing[*]}"
if [ "${VNSEARCH_NO_INSTALL:-0}" != 1 ] && [ "$EUID" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "system-deps: installing ${missing[*]} (needed by the tests)"
  # dpkg is chatty even with -qq: its output goes to a log, shown only when something fails
  log="${TMPDIR:-/tmp}/vnsearch-system-deps.log"
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1
  then
    wanted=("${missing[@]}")
    check "${VNSEARCH_SYSDEPS:-$DEFAULT_TEST}"
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "system-deps: installed ${wanted[*]} but still missing: ${missing[*]}" >&2
  else
    mapfile -t out <"$log"  # its last lines, with builtins (tail may not be on PATH)
    first=$(( ${#out[@]} > 20 ? ${#out[@]} - 20 : 0 ))
    [ ${#out[@]} -gt 0 ] && printf '%s\n' "${out[@]:first}" >&2
    echo "system-deps: apt-get failed (whole output: $log)" >&2
  fi
  echo "Run: $cmd" >&2
  exit 1
fi
# Not root, or no apt-get: stop now rather than let the test suite fail on it minutes later.
echo "system-deps: missing system packages needed by the tests: ${missing[*]}" >&2
if command -v apt-get >/dev/null || [ "${VNSEARCH_NO_INSTALL:-0}" = 1 ]; then
  echo "Run: sudo $cmd" >&2
else
  echo "Run: sudo $cmd   (Debian/Ubuntu package names; use your distribution's equivalents)" >&2
fi
exit 1
