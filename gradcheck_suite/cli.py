"""The `gradcheck-suite` command.

    gradcheck-suite validate [PATHS ...]
    gradcheck-suite batch SUBMISSIONS_ROOT --out DIR [--jobs N | --scheduler ADDRESS] [--force]
    gradcheck-suite cluster-spec (--slurm SCHEDULER | --kubernetes IMAGE) [--processes N] [--memory SIZE]
    gradcheck-suite grade [EXERCISES ...] --submission DIR [--json PATH] [--gradescope PATH]
                          [--junit PATH] [--markdown PATH] [--fail-under POINTS] [--time-limit SECONDS]
                          [--manifest PATH]
    gradcheck-suite release SRC DEST [--force] [--trials N] [--wheel [FILE]]
    gradcheck-suite build-autograder SRC --platform gradescope|github-classroom|prairielearn --out PATH [--force]
    gradcheck-suite new NAME --reference DOTTED.PATH [--style autograd_function|functional|numpy] [--dir PARENT]
    gradcheck-suite check-tolerances [EXERCISES ...] --solutions DIR [--trials N] [--seed S] [--dtype DTYPE ...]

`grade` always runs in autograder mode (the student's code in confined workers, see
sandbox/), on pytest with this package's plugin registered before pytest looks at any folder, so
that nothing in the submission is ever imported by the grader. Every report is written from the
same grade book, after every worker is gone. Exit status: 0 when grading completed, whatever the
score; 1 when the score is below --fail-under; 2 when an exercise file is invalid or the command
is misused. Under GitHub Actions it also appends the Markdown summary to $GITHUB_STEP_SUMMARY and
prints the points annotation GitHub Classroom reads.

`release` writes the students' version of an instructor's course folder after checking it (see
release.py); `build-autograder` checks it the same way and writes a grading platform's bundle
(instructor/bundle.py); `new` scaffolds an exercise from a reference function (scaffold.py);
`check-tolerances` sweeps correct solutions over many seeded trials (tolerance_check.py). Their
exit status: 0 done; 1 release or build refused, or a check failed on a correct solution; 2 misuse (and,
for check-tolerances, an invalid exercise file, as for grade).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import pytest

from .exercise.names import EXERCISE_FILE
from .exercise.schema import FLOAT_DTYPE_NAMES, SCAFFOLD_STYLES
from .report import formats
from .report.files import write_json_atomically, write_text_atomically
from .report.text import plural

LEVELS = ("processes", "namespaces", "full")  # sandbox.levels.LEVELS, without importing torch at start
PLATFORMS = ("gradescope", "github-classroom", "prairielearn")  # instructor.bundle.PLATFORMS, likewise


def _misuse(command: str, message: str) -> int:
    print(f"gradcheck-suite {command}: {message}", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradcheck-suite", description="Gradient-checking grader.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a submission in autograder mode")
    grade.add_argument("exercises", nargs="*", default=["exercises"],
                       help="exercise folders or exercise.yaml files (default: exercises)")
    grade.add_argument("--submission", required=True, metavar="DIR",
                       help="the folder of the student's files, or a Jupyter notebook (.ipynb) that makes them")
    grade.add_argument("--json", metavar="PATH", help="write the grades as JSON to PATH (every detail)")
    grade.add_argument("--gradescope", metavar="PATH", help="write Gradescope's results.json to PATH")
    grade.add_argument("--junit", metavar="PATH", help="write JUnit XML to PATH")
    grade.add_argument("--prairielearn", metavar="PATH",
                       help="write PrairieLearn's external-grader results.json to PATH")
    grade.add_argument("--markdown", metavar="PATH", help="write a Markdown summary to PATH")
    grade.add_argument("--html", metavar="PATH", help="write one self-contained HTML page, with heatmaps, to PATH")
    grade.add_argument("--fail-under", type=float, metavar="POINTS", help="exit 1 when the score is below POINTS")
    grade.add_argument("--time-limit", type=float, metavar="SECONDS",
                       help="wall-clock seconds per exercise (default: each exercise's limits, else 60)")
    grade.add_argument("--isolate-user", metavar="USER",
                       help="as root: run the workers as USER (default nobody, or uid 65534)")
    _isolation_options(grade)
    grade.add_argument("--trials", type=int, metavar="N", help="override every exercise's number of trials")
    grade.add_argument("--secret-seed-file", metavar="PATH",
                       help="draw the trials from the secret in PATH (default: $GRADCHECK_SECRET_SEED, else a new "
                            "one, recorded in --json) instead of the public seeds students run locally")
    grade.add_argument("--manifest", metavar="PATH",
                       help="the manifest.json of an autograder bundle: every exercise it lists is reported, one "
                            "that cannot be read as an error keeping the manifest's points in the maximum")
    batch = commands.add_parser("batch", help="grade every submission folder under a root, in parallel")
    batch.add_argument("root", help="a folder holding one folder per submission")
    batch.add_argument("--exercises", nargs="+", default=["exercises"], metavar="PATH",
                       help="exercise folders or exercise.yaml files (default: exercises)")
    batch.add_argument("--out", required=True, metavar="DIR", help="where grades.csv and each submission's JSON go")
    batch.add_argument("--jobs", type=int, default=1, metavar="N", help="submissions graded at once (default 1)")
    batch.add_argument("--force", action="store_true", help="regrade submissions already graded in DIR")
    batch.add_argument("--time-limit", type=float, metavar="SECONDS", help="wall-clock seconds per exercise")
    batch.add_argument("--trials", type=int, metavar="N", help="override every exercise's number of trials")
    batch.add_argument("--secret-seed-file", metavar="PATH",
                       help="draw the trials from the secret in PATH (default: DIR/secret-seed, made on the first run)")
    _isolation_options(batch)
    cluster = batch.add_argument_group("on a Dask cluster (pip install 'gradcheck-suite[cluster]')")
    cluster.add_argument("--scheduler", metavar="ADDRESS",
                         help="grade on the Dask scheduler at ADDRESS instead of --jobs local processes: "
                              "tcp://127.0.0.1:8786 on this machine, tls://HOST:PORT anywhere else")
    cluster.add_argument("--tls-ca-file", metavar="PATH", help="the cluster's CA certificate (tls:// only)")
    cluster.add_argument("--tls-cert", metavar="PATH", help="this client's certificate (tls:// only)")
    cluster.add_argument("--tls-key", metavar="PATH", help="this client's private key (tls:// only)")
    spec = commands.add_parser("cluster-spec", help="print a Slurm job script or a Kubernetes spec for Dask workers")
    kind = spec.add_mutually_exclusive_group(required=True)
    kind.add_argument("--slurm", metavar="SCHEDULER", help="an sbatch script of workers joining SCHEDULER")
    kind.add_argument("--kubernetes", metavar="IMAGE",
                      help="a DaskCluster resource (the Dask operator) of pods running IMAGE")
    spec.add_argument("--processes", type=int, default=2, metavar="N", help="worker processes per job or pod (default 2)")
    spec.add_argument("--memory", default="4GiB", metavar="SIZE", help="memory per worker process (default 4GiB)")
    spec.add_argument("--replicas", type=int, default=2, metavar="N", help="--kubernetes: worker pods (default 2)")
    spec.add_argument("--walltime", default="02:00:00", metavar="HH:MM:SS", help="--slurm: the job's time limit")
    spec.add_argument("--partition", metavar="NAME", help="--slurm: the partition")
    spec.add_argument("--tls-ca-file", metavar="PATH", help="--slurm: the cluster's CA certificate, as seen on the nodes")
    spec.add_argument("--tls-cert", metavar="PATH", help="--slurm: the workers' certificate")
    spec.add_argument("--tls-key", metavar="PATH", help="--slurm: the workers' private key")
    spec.add_argument("--tls-secret", metavar="NAME",
                      help="--kubernetes: a Secret holding ca.pem, cert.pem and key.pem: the cluster speaks tls://")
    spec.add_argument("--privileged", action="store_true",
                      help="--kubernetes: privileged worker containers (the sandbox's full level on most runtimes)")
    validate = commands.add_parser("validate", help="check exercise files; report every problem")
    validate.add_argument("paths", nargs="*", default=["exercises"], help="exercise folders or files (default: exercises)")
    release = commands.add_parser("release", help="check a course source folder and write the students' version")
    release.add_argument("src", help="the instructor's course folder: <exercise>/exercise.yaml beside the solution")
    release.add_argument("dest", help="where the students' version goes (missing or empty, unless --force)")
    release.add_argument("--force", action="store_true", help="replace what DEST holds")
    release.add_argument("--trials", type=int, metavar="N", help="override every exercise's number of trials")
    release.add_argument("--wheel", nargs="?", const="", metavar="FILE",
                         help="also ship gradcheck-suite's wheel beside DEST/requirements.txt: FILE, or (without "
                              "FILE) one built from the installed source")
    _build_autograder_parser(commands)
    new = commands.add_parser("new", help="scaffold an exercise (YAML and solution template) from a reference")
    new.add_argument("name", help="the exercise's name, an identifier")
    new.add_argument("--reference", required=True, metavar="DOTTED.PATH",
                     help="the differentiable torch function the exercise asks for, e.g. torch.sigmoid")
    new.add_argument("--style", choices=SCAFFOLD_STYLES, default=SCAFFOLD_STYLES[0],
                     help=f"how students write it (default {SCAFFOLD_STYLES[0]})")
    new.add_argument("--dir", default="exercises", metavar="PARENT", help="where NAME/ is written (default: exercises)")
    tolerances = commands.add_parser("check-tolerances", help="sweep correct solutions over many seeded trials")
    tolerances.add_argument("exercises", nargs="*", default=["exercises"],
                            help="exercise folders or exercise.yaml files (default: exercises)")
    tolerances.add_argument("--solutions", required=True, metavar="DIR",
                            help="the solutions: DIR/<student file> or DIR/<exercise>/<student file>")
    tolerances.add_argument("--trials", type=int, default=1000, metavar="N", help="trials per check (default 1000)")
    tolerances.add_argument("--seed", type=int, metavar="S", help="the trials' seed (default: each exercise's)")
    tolerances.add_argument("--dtype", action="append", default=[], choices=FLOAT_DTYPE_NAMES,
                            help="also sweep in this dtype (repeatable); the exercise's own dtype always runs")
    return parser


def _build_autograder_parser(commands) -> None:
    bundle = commands.add_parser("build-autograder", help="check a course source folder and write a platform's "
                                                          "autograder bundle (no solutions, a secret seed)")
    bundle.add_argument("src", help="the instructor's course folder, as for release")
    bundle.add_argument("--platform", required=True, choices=PLATFORMS)
    bundle.add_argument("--out", required=True, metavar="PATH", help="where the bundle goes (missing or empty, "
                                                                      "unless --force)")
    bundle.add_argument("--force", action="store_true", help="replace what PATH holds")
    bundle.add_argument("--trials", type=int, metavar="N", help="override every exercise's trials in the checks")
    bundle.add_argument("--wheel", metavar="FILE", help="ship this gradcheck-suite wheel (default: build one from "
                                                        "the installed source)")
    bundle.add_argument("--secret-seed-file", metavar="PATH",
                        help="keep the secret of an earlier build (default: a new one, in the bundle's secret-seed)")


def build_autograder(args: argparse.Namespace) -> int:
    """Refuse (1) unless the release checks pass and no solution line is in the bundle."""
    from .errors import GradcheckSuiteError, ReleaseMisuse
    from .grading.options import RunOptions
    from .instructor.bundle import build_autograder as build

    command = "build-autograder"
    if args.trials is not None and args.trials < 1:
        return _misuse(command, f"--trials {args.trials}: expected an integer >= 1")
    try:
        built = build(Path(args.src), Path(args.out), args.platform, force=args.force,
                      options=RunOptions(trials=args.trials), wheel=Path(args.wheel) if args.wheel else None,
                      secret_file=Path(args.secret_seed_file) if args.secret_seed_file else None)
    except ReleaseMisuse as exc:
        return _misuse(command, str(exc))
    except GradcheckSuiteError as exc:  # the environment cannot be pinned, the secret cannot be read
        print(f"gradcheck-suite {command}: {exc}", file=sys.stderr)
        return 1
    return 0 if built else 1


def _isolation_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--require-isolation", metavar="LEVEL", choices=LEVELS,
                         help="refuse to grade (exit 2) unless the workers reach LEVEL: processes < namespaces < full "
                              "(see the README's threat model)")
    command.add_argument("--submission-time-limit", type=float, metavar="SECONDS",
                         help="wall-clock seconds for every exercise of a submission together (set it below the "
                              "platform's timeout): what is left after it is a timeout, and the report is written")
    command.add_argument("--isolation-ceiling", metavar="LEVEL", choices=LEVELS, help=argparse.SUPPRESS)


def exercise_files(paths: list[str]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        found += [path] if path.is_file() else sorted(path.rglob(EXERCISE_FILE))
    return found


def batch(args: argparse.Namespace) -> int:
    from .batch import BatchOptions, run_batch
    from .errors import ConfigError
    from .exercise.load import load_exercise
    from .grading.seeds import SecretSeedError, read_secret

    root = Path(args.root)
    if not root.is_dir():
        return _misuse("batch", f"{root}: not a folder")
    files = exercise_files(args.exercises)
    if not files:
        return _misuse("batch", f"no exercise.yaml under {', '.join(args.exercises)}")
    try:
        specs = [load_exercise(path) for path in files]
    except ConfigError as exc:
        return _misuse("batch", f"invalid exercise file:\n{exc}")
    try:
        secret = read_secret(args.secret_seed_file) if args.secret_seed_file else None
    except SecretSeedError as exc:
        return _misuse("batch", str(exc))
    if args.submission_time_limit is not None and args.submission_time_limit <= 0:
        return _misuse("batch", f"--submission-time-limit {args.submission_time_limit}: expected seconds > 0")
    from .errors import ClusterError, IsolationUnavailable

    try:
        engine = _cluster_engine(args)
        target = run_batch(specs, root, Path(args.out), jobs=args.jobs, force=args.force,
                           options=BatchOptions(time_limit=args.time_limit, trials=args.trials,
                                                require=args.require_isolation, ceiling=args.isolation_ceiling,
                                                submission_time_limit=args.submission_time_limit, secret=secret),
                           engine=engine)
    except (IsolationUnavailable, ClusterError) as exc:
        return _misuse("batch", str(exc))
    print(f"grades: {target}")
    return 0


def _cluster_engine(args: argparse.Namespace):
    """The Dask engine for --scheduler (None without it); ClusterError for an unsafe or unusable address."""
    from .cluster.security import TlsFiles, check_address

    tls = TlsFiles(args.tls_ca_file, args.tls_cert, args.tls_key)
    if args.scheduler is None:
        if tls.given:
            raise _cluster_error("--tls-ca-file, --tls-cert and --tls-key go with --scheduler tls://HOST:PORT")
        return None
    address = check_address(args.scheduler, tls)
    try:
        import distributed  # noqa: F401 - the optional extra
    except ImportError:
        raise _cluster_error("--scheduler needs Dask's distributed package: pip install 'gradcheck-suite[cluster]'") \
            from None
    from .cluster.engine import DaskEngine
    from .cluster.security import security_for

    return DaskEngine(address, security_for(address, tls))


def _cluster_error(message: str) -> Exception:
    from .errors import ClusterError

    return ClusterError(message)


def cluster_spec(args: argparse.Namespace) -> int:
    """Print a Slurm job script (--slurm SCHEDULER) or a Kubernetes DaskCluster spec (--kubernetes IMAGE)."""
    from .cluster.security import TlsFiles
    from .cluster.specs import WorkerSpec, kubernetes_spec, slurm_script
    from .errors import ClusterError

    if args.processes < 1 or args.replicas < 1:
        return _misuse("cluster-spec", "--processes and --replicas: expected integers >= 1")
    spec = WorkerSpec(processes=args.processes, memory=args.memory)
    try:
        if args.slurm:
            tls = TlsFiles(args.tls_ca_file, args.tls_cert, args.tls_key)
            if tls.given != args.slurm.startswith("tls://") or (tls.given and not all(
                    (tls.ca_file, tls.cert, tls.key))):
                raise ClusterError("a tls:// scheduler needs --tls-ca-file, --tls-cert and --tls-key, "
                                   "and only a tls:// one takes them")
            text = slurm_script(args.slurm, spec, tls, walltime=args.walltime, partition=args.partition)
        else:
            text = kubernetes_spec(args.kubernetes, spec, replicas=args.replicas, tls_secret=args.tls_secret,
                                   privileged=args.privileged)
    except (ClusterError, ValueError) as exc:
        return _misuse("cluster-spec", str(exc))
    print(text, end="")
    return 0


class _BookCollector:
    """Keeps the session's grade book once pytest has finished with it."""

    book = None

    def pytest_sessionfinish(self, session):
        from .plugin import grade_book

        self.book = grade_book(session.config)


def grade(args: argparse.Namespace) -> int:
    for path in args.exercises:
        if not Path(path).exists():
            return _misuse("grade", f"{path}: no such file or folder")
    submission = Path(args.submission)
    if submission.suffix == ".ipynb" and submission.is_file():
        return _grade_notebook(args, submission)
    if not submission.is_dir():
        return _misuse("grade", f"--submission {args.submission}: not a folder (nor a .ipynb notebook)")
    return _grade_folder(args, submission)


def _grade_notebook(args: argparse.Namespace, notebook: Path) -> int:
    """A notebook submission: its code cells (student.notebooks) become the student's file of every
    exercise, in a temporary folder graded as any other."""
    import tempfile

    from .errors import ConfigError, StudentCodeError
    from .exercise.load import load_exercise
    from .student.notebooks import write_student_files

    names = []
    for path in exercise_files(args.exercises):
        try:
            names.append(load_exercise(path).student_file)
        except ConfigError:
            continue  # grading reports the invalid file itself
    with tempfile.TemporaryDirectory(prefix="gradcheck-notebook-") as scratch:
        folder = Path(scratch) / notebook.stem
        try:
            write_student_files(notebook, names, folder)
        except StudentCodeError as exc:
            return _misuse("grade", f"--submission {exc}")
        return _grade_folder(args, folder)


def _grade_folder(args: argparse.Namespace, folder: Path) -> int:
    options = ["-p", "gradcheck_suite.plugin", "-p", "no:cacheprovider", "-q", "--isolate",
               f"--submission={folder}"]
    if args.time_limit is not None:
        options.append(f"--time-limit={args.time_limit}")
    if args.isolate_user:
        options.append(f"--isolate-user={args.isolate_user}")
    if args.secret_seed_file:
        options.append(f"--secret-seed-file={args.secret_seed_file}")
    if args.require_isolation:
        options.append(f"--require-isolation={args.require_isolation}")
    if args.isolation_ceiling:
        options.append(f"--isolation-ceiling={args.isolation_ceiling}")
    if args.submission_time_limit is not None:
        if args.submission_time_limit <= 0:
            return _misuse("grade", f"--submission-time-limit {args.submission_time_limit}: expected seconds > 0")
        options.append(f"--submission-time-limit={args.submission_time_limit}")
    if args.trials is not None:
        options.append(f"--trials={args.trials}")
    manifest = None
    if args.manifest:
        from .grading.manifest import ManifestError, read_manifest

        try:
            manifest = read_manifest(args.manifest)
        except ManifestError as exc:
            return _misuse("grade", str(exc))
    collector = _BookCollector()
    started = time.monotonic()
    code = pytest.main(options + list(args.exercises), plugins=[collector])
    elapsed = time.monotonic() - started
    book = collector.book
    completed = [pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED]
    if manifest is not None:  # every exercise of the manifest is reported, even when none could be collected
        from .grading.manifest import complete
        from .report.model import GradeBook

        completed.append(pytest.ExitCode.NO_TESTS_COLLECTED)
        book = complete(book or GradeBook(), manifest) if code in completed else book
    if code not in completed or book is None or not book.exercises:
        return 2
    book.run["submission"] = Path(args.submission).resolve().name
    write_reports(book, args, elapsed)
    for name, why in book.ungradable.items():
        print(f"gradcheck-suite grade: {name} could not be graded; its points stay in the maximum. "
              f"Why: {why}", file=sys.stderr)
    if book.ungradable:
        return 2
    if args.fail_under is not None and book.score < args.fail_under:
        return 1
    return 0


def write_reports(book, args: argparse.Namespace, elapsed: float) -> None:
    """Every report asked for; the JSON's digest is printed, so that the file can be checked against
    what the grader wrote (nothing of the submission is left to change it)."""
    if args.json:
        data = write_json_atomically(Path(args.json), book.to_full_json())
        print(f"report: {args.json} sha256 {hashlib.sha256(data).hexdigest()}")
    if args.gradescope:
        write_json_atomically(Path(args.gradescope), formats.gradescope(book, elapsed))
    if args.prairielearn:
        write_json_atomically(Path(args.prairielearn), formats.prairielearn(book))
    if args.junit:
        write_text_atomically(Path(args.junit), formats.junit_xml(book, elapsed))
    if args.html:
        write_text_atomically(Path(args.html), formats.html(book))
    summary = formats.markdown(book)
    if args.markdown:
        write_text_atomically(Path(args.markdown), summary)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(summary)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(formats.classroom_points(book))


def validate(args: argparse.Namespace) -> int:
    """Every problem of every exercise file, as path:line: field: expectation, including what running
    its reference on drawn inputs and edge cases shows (instructor.dry_run); exit 1 if any."""
    from .errors import ConfigError
    from .exercise.course import read_course
    from .exercise.load import load_exercise
    from .exercise.names import COURSE_FILE
    from .instructor.dry_run import problems as dry_run

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        return _misuse("validate", f"{', '.join(missing)}: no such file or folder")
    files = exercise_files(args.paths)
    if not files:
        return _misuse("validate", f"no exercise.yaml under {', '.join(args.paths)}")
    invalid = 0
    for path in files:
        try:
            spec = load_exercise(path)
            found = dry_run(spec, read_course(Path(path).parent.parent / COURSE_FILE).root)
            if found:
                raise ConfigError(path, found)
        except ConfigError as exc:
            invalid += 1
            print(exc)
            continue
        print(f"{path}: ok ({spec.name}, {len(spec.checks)} checks, {spec.points:g} points)")
    print(f"{len(files) - invalid} of {len(files)} exercise files valid")
    return 1 if invalid else 0


def release(args: argparse.Namespace) -> int:
    """Refuse (1) unless every exercise's files, solution and stub pass the release checks."""
    from .errors import BundleError
    from .grading.options import RunOptions
    from .instructor.release import ReleaseMisuse
    from .instructor.release import release as run_release

    if args.trials is not None and args.trials < 1:
        return _misuse("release", f"--trials {args.trials}: expected an integer >= 1")
    wheel = False if args.wheel is None else Path(args.wheel) if args.wheel else True
    try:
        released = run_release(Path(args.src), Path(args.dest), force=args.force,
                               options=RunOptions(trials=args.trials), wheel=wheel)
    except (ReleaseMisuse, BundleError) as exc:
        return _misuse("release", str(exc))
    return 0 if released else 1


def new(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .exercise.load import load_exercise
    from .instructor.scaffold import ScaffoldError, create_exercise

    try:
        path, notes = create_exercise(args.name, args.reference, args.style, Path(args.dir))
    except ScaffoldError as exc:
        return _misuse("new", str(exc))
    print(f"wrote {path} and {path.parent / (args.name + '.py')}")
    for note in notes:
        print(f"  to check: {note}")
    try:
        spec = load_exercise(path)
    except ConfigError as exc:  # a scaffold that does not validate is this command's bug
        print(exc)
        return 1
    print(f"{path}: ok ({spec.name}, {plural(len(spec.inputs), 'input')}, {plural(len(spec.checks), 'check')})")
    return 0


def check_tolerances(args: argparse.Namespace) -> int:
    """Exit 1 when any check failed on a correct solution."""
    from .errors import ConfigError
    from .exercise.load import load_exercise
    from .instructor.sweep import check_tolerances as sweep_all
    from .instructor.sweep import find_solution

    command = "check-tolerances"
    missing = [p for p in args.exercises if not Path(p).exists()]
    if missing:
        return _misuse(command, f"{', '.join(missing)}: no such file or folder")
    solutions = Path(args.solutions)
    if not solutions.is_dir():
        return _misuse(command, f"--solutions {solutions}: not a folder")
    if args.trials < 1:
        return _misuse(command, f"--trials {args.trials}: expected an integer >= 1")
    files = exercise_files(args.exercises)
    if not files:
        return _misuse(command, f"no exercise.yaml under {', '.join(args.exercises)}")
    try:
        specs = [load_exercise(path) for path in files]
    except ConfigError as exc:
        return _misuse(command, f"invalid exercise file:\n{exc}")
    folders = {spec.name: find_solution(spec, solutions) for spec in specs}
    unsolved = [spec for spec in specs if folders[spec.name] is None]
    if unsolved:
        return _misuse(command, "no solution for " + "; ".join(
            f"{s.name} (looked for {solutions / s.directory.name / s.student_file} and {solutions / s.student_file})"
            for s in unsolved))
    solved = {name: folder for name, folder in folders.items() if folder is not None}  # all of them, by now
    return 0 if sweep_all(specs, solved, args.trials, args.seed, args.dtype) else 1


COMMANDS = {"grade": grade, "batch": batch, "validate": validate, "release": release, "new": new,
            "check-tolerances": check_tolerances, "build-autograder": build_autograder, "cluster-spec": cluster_spec}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
