#!/usr/bin/env bash
# The student edition (`cargo grade --student-edition`), written into a temporary
# folder and checked there as a student's fresh clone: no reference answer in it,
# `cargo test --locked` green, each lesson's `cargo test -p lessonNN` failing only
# at its todo!()s, `cargo lab list` and `cargo grade` working.
#
#   bash .ci/student-edition.sh
#
# The build folder is the checkout's own (CARGO_TARGET_DIR, else target/): the
# dependencies are not built again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
edition="$work/course"

cargo grade --student-edition "$edition"
cd "$edition"

echo "student edition: no reference answer in it"
python3 - "$root" "$edition" <<'PY'
import os, re, sys, tomllib
root, edition = sys.argv[1], sys.argv[2]
lessons = tomllib.load(open(os.path.join(root, "lessons/lessons.toml"), "rb"))["lesson"]
problems = []
if os.path.exists(os.path.join(edition, "solutions")):
    problems.append("solutions/ is in the edition")
def squeeze(text):
    return re.sub(r"\s+", "", text)
answers = {}
for lesson in lessons:
    for f in lesson.get("files", ["src/lib.rs"]):
        path = os.path.join(root, "solutions", lesson["package"], f)
        answers[f"solutions/{lesson['package']}/{f}"] = squeeze(open(path).read())
for dirpath, _, names in os.walk(edition):
    for name in names:
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, edition)
        try:
            text = open(path).read()
        except UnicodeDecodeError:
            continue
        for answer, code in answers.items():
            if squeeze(text) == code:
                problems.append(f"{rel} is the reference answer {answer}")
        if "solutions/" in text and "{{#include" in text and rel.startswith("book/src/"):
            for line in text.splitlines():
                if "{{#include" in line and "solutions/" in line:
                    problems.append(f"{rel} includes a solution: {line.strip()}")
for lesson in lessons:
    page = os.path.join(edition, "book/src", lesson["chapter"].replace("index.md", "solution.md"))
    text = open(page).read()
    if len(text) > 1000 or "```" in text:
        problems.append(f"{os.path.relpath(page, edition)} has more than the note")
manifest = tomllib.load(open(os.path.join(edition, "Cargo.toml"), "rb"))["workspace"]
if any("solutions" in m for m in manifest["members"] + manifest["default-members"]):
    problems.append(f"Cargo.toml still names the solutions: {manifest}")
if "solution" in open(os.path.join(edition, "Cargo.lock")).read():
    problems.append("Cargo.lock still has a solution package")
if problems:
    print("student edition:\n" + "\n".join(problems), file=sys.stderr)
    sys.exit(1)
PY

echo "student edition: cargo test --locked"
cargo test --locked --quiet

echo "student edition: each lesson fails only at its todo!()s"
for package in $(python3 -c 'import tomllib; print(" ".join(l["package"] for l in tomllib.load(open("lessons/lessons.toml", "rb"))["lesson"]))'); do
    status=0
    cargo test --locked -p "$package" --no-fail-fast --color never >"$work/$package.out" 2>&1 || status=$?
    python3 - "$package" "$status" "$work/$package.out" <<'PY'
import re, sys
package, status, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = open(path).read()
problems = []
if "running " not in out:
    problems.append("did not compile:\n" + "\n".join(l for l in out.splitlines() if l.startswith("error"))[:2000])
if status == 0:
    problems.append("passes as shipped: it must stop at its todo!()s")
failures = re.split(r"^---- ", out, flags=re.M)[1:]
if not failures and "running " in out:
    problems.append("no check failed")
for failure in failures:
    name = failure.split(" stdout ----", 1)[0]
    if "not yet implemented" not in failure:
        message = failure.split("panicked at", 1)[-1].splitlines()[1:3]
        problems.append(f"{name} fails for another reason than a todo!(): {message}")
if problems:
    print(f"student edition, cargo test -p {package}:\n" + "\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"  {package}: {len(failures)} checks stop at a todo!(), none fails otherwise")
PY
done

echo "student edition: cargo lab list, cargo grade"
cargo lab list >"$work/lab.out"
grep -q "01" "$work/lab.out" || { echo "student edition: cargo lab list printed nothing" >&2; exit 1; }
status=0
cargo grade --json >"$work/grades.json" || status=$?
python3 - "$work/grades.json" "$status" <<'PY'
import json, sys
grades, status = json.load(open(sys.argv[1])), int(sys.argv[2])
wrong = [f"{g['id']}: {g['status']} {g['passed']}/{g['total']}" for g in grades
         if g["status"] != "not started" or g["passed"] != 0 or g["total"] == 0]
if wrong or status == 0:
    print(f"student edition, cargo grade (exit {status}): every lesson should be not started, 0 passed:\n" + "\n".join(wrong), file=sys.stderr)
    sys.exit(1)
print(f"student edition: {len(grades)} lessons, each not started; no reference answer anywhere")
PY
