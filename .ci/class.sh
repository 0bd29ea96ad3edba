#!/usr/bin/env bash
# `cargo grade --class` on a class built from the course itself, every cell
# checked: a student who solved everything, one who did nothing, one halfway,
# one who edited the checks to pass, one whose lesson 03 never returns and one
# whose lesson 05 does not compile. With them, the cheats that passed a
# student's own checkout, each defeated (graded with the instructor's checks) or
# flagged: empty #[test]s with the suite's names in a check.rs; check bodies
# replaced by () in tests/src/lesson02.rs; `if false { $body; }` in
# tests/src/lib.rs; a copied reference solution; a lib.rs that includes the
# solution with #[path]; a link to a solution; two students with one file.
# Then plain `cargo grade` in the never-returning student's copy: the lesson
# is timed out and the table still comes.
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
all=$(python3 -c 'import tomllib; print(" ".join(l["id"] for l in tomllib.load(open("lessons/lessons.toml", "rb"))["lesson"]))')
last=${all##* }
# Lesson 01 of their own: the solution with other names. One student copies
# the other's, with other comments and layout.
own01() {
    sed -e 's/\bpairs\b/params/g' -e 's/\brequest\b/incoming/g' solutions/lesson01/src/lib.rs >"$class/$1/lessons/lesson01/src/lib.rs"
}

copy solved && solve solved $all
copy nothing
# A link to the answer: never read through, flagged.
ln -sf ../../../solutions/lesson02/src/lib.rs "$class/nothing/lessons/lesson02/src/lib.rs"
copy halfway && solve halfway 01 02 03 04 05 && own01 halfway
# The reference solution, copied: passes, flagged.
cp solutions/lesson09/src/lib.rs "$class/halfway/lessons/lesson09/src/lib.rs"
# Every check body skipped: would pass everything in the student's own checkout.
copy cheater && sed -i 's/\$( #\[test\] fn \$name() { \$body; } )\*/$( #[test] fn $name() { if false { $body; } } )*/' "$class/cheater/tests/src/lib.rs"
grep -q 'if false' "$class/cheater/tests/src/lib.rs" || { echo "class: the cheat was not planted" >&2; exit 1; }
# Lesson 02's checks as empty #[test]s of the same names, and its suite's bodies as ().
python3 - "$class/cheater" <<'PY'
import re, sys
course = sys.argv[1]
suite_path = f"{course}/tests/src/lesson02.rs"
suite = open(suite_path).read()
names = re.findall(r"^\s+(\w+) => \$crate::lesson02::", suite, flags=re.M)
assert names, "class: no check names found in tests/src/lesson02.rs"
open(f"{course}/lessons/lesson02/tests/check.rs", "w").write("".join(f"#[test]\nfn {n}() {{}}\n" for n in names))
emptied = re.sub(r"(^\s+\w+ => )\$crate::lesson02::[^;]*;", r"\1();", suite, flags=re.M)
assert emptied != suite
open(suite_path, "w").write(emptied)
PY
copy unending && solve unending $all && python3 - "$class/unending/lessons/lesson03/src/lib.rs" <<'PY'
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
# Lesson 01: halfway's, reformatted and commented.
own01 broken && sed -i -e 's/^    /\t/' -e 's|^\(pub fn .*\)$|// mine, honest\n\1|' "$class/broken/lessons/lesson01/src/lib.rs"
# Lesson 06: three lines that include the solution.
printf '#[path = "../../../solutions/lesson06/src/lib.rs"]\nmod answer;\npub use answer::*;\n' >"$class/broken/lessons/lesson06/src/lib.rs"

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
import tomllib
lessons = [l["id"] for l in tomllib.load(open("lessons/lessons.toml", "rb"))["lesson"]]
SOLUTION = "equals the reference solution"
def expect(student, status, changed=(), flags=None):
    wanted = {l: "passed" for l in lessons}
    wanted.update(status)
    return student, wanted, set(changed), flags or {}
cases = [
    expect("solved", {}, flags={l: SOLUTION for l in lessons}),
    expect("nothing", {l: "not started" for l in lessons}, flags={"02": "a link: lessons/lesson02/src/lib.rs"}),
    expect("halfway", {l: "not started" for l in lessons[5:] if l != "09"},
           flags={**{l: SOLUTION for l in ["02", "03", "04", "05", "09"]}, "01": "like broken's"}),
    expect("cheater", {l: "not started" for l in lessons},
           ["tests/src/lib.rs", "tests/src/lesson02.rs", "lessons/lesson02/tests/check.rs"]),
    # Lesson 03: the solution with a loop put in, the rest of it as lesson 04 ships it.
    expect("unending", {"03": "timed out"},
           flags={**{l: SOLUTION for l in lessons if l != "03"}, "03": "as shipped in lessons/lesson04/src/earlier.rs"}),
    expect("broken", {"05": "did not compile"},
           flags={**{l: SOLUTION for l in lessons if l not in ("01", "05", "06")},
                  "01": "like halfway's", "06": "reaches outside its file: #[path"}),
]
problems = []
for student, wanted, changed, flags in cases:
    s = got.get(student)
    if s is None:
        problems.append(f"{student}: missing from the report")
        continue
    for cell in s["lessons"]:
        if cell["status"] != wanted[cell["id"]]:
            problems.append(f"{student} lesson {cell['id']}: {cell['status']}, wanted {wanted[cell['id']]} ({cell.get('first_failure')}: {cell.get('message')})")
        if cell["status"] == "passed" and cell["passed"] != cell["total"]:
            problems.append(f"{student} lesson {cell['id']}: passed with {cell['passed']} of {cell['total']}")
        if cell["status"] == "not started" and (cell["passed"] != 0 or cell["points"] != 0):
            problems.append(f"{student} lesson {cell['id']}: not started with {cell['passed']} passed, {cell['points']} points")
        if cell["status"] == "passed" and cell["points"] != cell["max_points"]:
            problems.append(f"{student} lesson {cell['id']}: passed with {cell['points']} of {cell['max_points']} points")
        if cell["total"] == 0:
            problems.append(f"{student} lesson {cell['id']}: no total")
        flag, want = cell["flag"], flags.get(cell["id"])
        if (want is None) != (flag is None) or (want is not None and want not in flag):
            problems.append(f"{student} lesson {cell['id']}: flag {flag!r}, wanted {want!r}")
    if set(s["changed_elsewhere"]) != changed:
        problems.append(f"{student}: changed_elsewhere {s['changed_elsewhere']}, wanted {sorted(changed)}")
    if not s.get("last_change") or "commit" not in s or s["max_points"] <= 0:
        problems.append(f"{student}: no last_change, commit or points: {s}")
csv = open(os.path.join(work, "grades.csv")).read().splitlines()
if len(csv) != 1 + len(cases):
    problems.append(f"grades.csv has {len(csv)} lines")
html = open(os.path.join(work, "grades.html")).read()
if "<script" in html or "http" in html.replace("http-equiv", ""):
    problems.append("grades.html loads or links something from elsewhere")
for student, *_ in cases:
    results = json.load(open(os.path.join(work, "gradescope", student, "results.json")))
    if len(results["tests"]) != len(lessons) or any("max_score" not in t for t in results["tests"]):
        problems.append(f"gradescope/{student}/results.json: {results}")
if problems:
    print("class: wrong verdicts:\n" + "\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"class: every cell right ({len(cases)} students x {len(lessons)} lessons); the edited checks reported, every cheat flagged or defeated")
PY

# Plain `cargo grade` in the scratch copy that holds the never-returning lesson
# (built already): that lesson is timed out, the others graded, the table printed.
job=$(grep -l 'std::thread::park' "$work"/scratch/job-*/lessons/lesson03/src/lib.rs | head -1)
job=${job%/lessons/lesson03/src/lib.rs}
status=0
(cd "$job" && cargo grade --timeout 20 >"$work/plain.txt" 2>"$work/plain.err") || status=$?
if [ "$status" -eq 0 ] || ! grep -q '^03 .*timed out: stopped after 20 s' "$work/plain.txt" \
    || ! grep -q "^$last .*passed" "$work/plain.txt" || ! grep -q 'lessons passed' "$work/plain.txt"; then
    echo "class: plain cargo grade with a lesson that never returns (exit $status):" >&2
    cat "$work/plain.txt" "$work/plain.err" >&2
    exit 1
fi
echo "class: plain cargo grade stopped the lesson that never returns and printed the table"
