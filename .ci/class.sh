#!/usr/bin/env bash
# `cargo grade --class` on a class built from the course itself, every cell
# checked: a student who solved everything, one who did nothing, one halfway,
# one who edited the checks to pass, one whose lesson 03 never returns and one
# whose lesson 05 does not compile.
#
#   bash .ci/class.sh [--jobs N]
#   CLASS_REPORTS=DIR bash .ci/class.sh   # also keep the reports in DIR
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
class="$work/class"

# A student's copy: the course's files as git knows them.
copy() {
    mkdir -p "$class/$1"
    git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$class/$1"
}
solve() { # solve STUDENT NN...
    local student=$1
    shift
    for n in "$@"; do
        cp "solutions/lesson$n/src/lib.rs" "$class/$student/lessons/lesson$n/src/lib.rs"
    done
}
all="01 02 03 04 05 06 07 08 09 10"

copy solved && solve solved $all
copy nothing
copy halfway && solve halfway 01 02 03 04 05
# Every check body skipped: would pass everything in the student's own checkout.
copy cheater && sed -i 's/\$( #\[test\] fn \$name() { \$body; } )\*/$( #[test] fn $name() { if false { $body; } } )*/' "$class/cheater/tests/src/lib.rs"
grep -q 'if false' "$class/cheater/tests/src/lib.rs" || { echo "class: the cheat was not planted" >&2; exit 1; }
copy hangs && solve hangs $all && python3 - "$class/hangs/lessons/lesson03/src/lib.rs" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
start = text.index("pub fn wait_for_callback(")
body = text.index("{", start)
# Never returns: every check that waits for the browser hangs.
text = text[: body + 1] + "\n    loop {\n        std::thread::park();\n    }\n" + text[body + 1 :]
open(path, "w").write(text)
PY
copy broken && solve broken $all && echo 'fn broken( {' >>"$class/broken/lessons/lesson05/src/lib.rs"

cargo grade --class "$class" --timeout 30 --json "$work/grades.json" --csv "$work/grades.csv" \
    --html "$work/grades.html" --gradescope "$work/gradescope" --scratch "$work/scratch" "$@"

if [ -n "${CLASS_REPORTS:-}" ]; then
    mkdir -p "$CLASS_REPORTS"
    cp -r "$work"/grades.* "$work/gradescope" "$CLASS_REPORTS"/
fi

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
report = json.load(open(os.path.join(work, "grades.json")))
got = {s["student"]: s for s in report["students"]}
lessons = [f"{n:02d}" for n in range(1, 11)]
def expect(student, status, changed=()):
    wanted = {l: "passed" for l in lessons}
    wanted.update(status)
    return student, wanted, set(changed)
cases = [
    expect("solved", {}),
    expect("nothing", {l: "not started" for l in lessons}),
    expect("halfway", {l: "not started" for l in lessons[5:]}),
    expect("cheater", {l: "not started" for l in lessons}, ["tests/src/lib.rs"]),
    expect("hangs", {"03": "timed out"}),
    expect("broken", {"05": "did not compile"}),
]
problems = []
for student, wanted, changed in cases:
    s = got.get(student)
    if s is None:
        problems.append(f"{student}: missing from the report")
        continue
    for cell in s["lessons"]:
        if cell["status"] != wanted[cell["id"]]:
            problems.append(f"{student} lesson {cell['id']}: {cell['status']}, wanted {wanted[cell['id']]} ({cell.get('first_failure')}: {cell.get('message')})")
        if cell["status"] == "passed" and cell["passed"] != cell["total"]:
            problems.append(f"{student} lesson {cell['id']}: passed with {cell['passed']} of {cell['total']}")
        if cell["total"] == 0:
            problems.append(f"{student} lesson {cell['id']}: no total")
    if set(s["changed_elsewhere"]) != changed:
        problems.append(f"{student}: changed_elsewhere {s['changed_elsewhere']}, wanted {sorted(changed)}")
csv = open(os.path.join(work, "grades.csv")).read().splitlines()
if len(csv) != 1 + len(cases):
    problems.append(f"grades.csv has {len(csv)} lines")
html = open(os.path.join(work, "grades.html")).read()
if "<script" in html or "http" in html.replace("http-equiv", ""):
    problems.append("grades.html loads or links something from elsewhere")
for student, _, _ in cases:
    results = json.load(open(os.path.join(work, "gradescope", student, "results.json")))
    if len(results["tests"]) != 10 or any("max_score" not in t for t in results["tests"]):
        problems.append(f"gradescope/{student}/results.json: {results}")
if problems:
    print("class: wrong verdicts:\n" + "\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"class: every cell right ({len(cases)} students x {len(lessons)} lessons); the edited checks reported")
PY
