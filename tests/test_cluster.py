"""`gradcheck-suite batch --scheduler`: a class graded on a Dask cluster, as the local run grades it.

Fast: which scheduler addresses are accepted, the files a submission travels as, the error row of a
submission that keeps killing its worker, the generated Slurm script and Kubernetes spec. Heavy (a
LocalCluster of 2 worker processes): the same grades.csv as `--jobs 2`, a worker SIGKILLed mid-run
loses no submission, a resumed run grades only what is missing, a submission whose worker dies
each time becomes an error row instead of a stalled batch, and --require-isolation is checked on
every worker before anything is graded.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
import yaml

from conftest import EXERCISES, REPO_ROOT, SOLUTIONS, VARIANTS
from gradcheck_suite import cli
from gradcheck_suite.batch import grades_csv
from gradcheck_suite.cluster.bundle import FolderBundle, course_bundle, pack_folder
from gradcheck_suite.cluster.engine import error_report
from gradcheck_suite.cluster.security import TlsFiles, check_address, is_loopback
from gradcheck_suite.cluster.specs import TLS_MOUNT, WorkerSpec, kubernetes_spec, slurm_script
from gradcheck_suite.errors import ClusterError
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.sandbox.staging import MAX_FILE_BYTES, Submission

try:
    import distributed
except ImportError:  # the optional extra gradcheck-suite[cluster]
    distributed = None
needs_dask = pytest.mark.skipif(distributed is None, reason="dask.distributed is not installed "
                                                            "(pip install 'gradcheck-suite[cluster]')")

# ----------------------------------------------------------------------------- the address


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "tcp://localhost:8786",
                                     "tcp://[::1]:8786", "tcp://127.0.0.5:9000"])
def test_a_loopback_tcp_address_is_accepted(address):
    assert check_address(address).startswith("tcp://")


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "192.168.1.20:8786", "tcp://0.0.0.0:8786",
                                     "tcp://grader.example.org:8786"])
def test_a_tcp_address_beyond_this_machine_is_refused_and_told_to_use_tls(address):
    with pytest.raises(ClusterError) as refused:
        check_address(address)
    assert "refused" in str(refused.value) and "tls://" in str(refused.value) and "--tls-ca-file" in str(refused.value)


def test_tls_is_accepted_anywhere_and_its_files_are_checked():
    assert check_address("tls://10.0.0.5:8786", TlsFiles("ca.pem", "cert.pem", "key.pem")) == "tls://10.0.0.5:8786"
    with pytest.raises(ClusterError, match="all three"):
        check_address("tls://10.0.0.5:8786", TlsFiles("ca.pem"))
    with pytest.raises(ClusterError, match="need a tls:// address"):
        check_address("tcp://127.0.0.1:8786", TlsFiles("ca.pem", "cert.pem", "key.pem"))
    with pytest.raises(ClusterError, match="expected tcp://"):
        check_address("ucx://10.0.0.5:8786")
    assert is_loopback("localhost") and not is_loopback("10.0.0.5")


@needs_dask
def test_tls_without_a_ca_is_refused_before_connecting():
    from gradcheck_suite.cluster.security import security_for

    assert security_for("tcp://127.0.0.1:8786") is None
    with pytest.raises(ClusterError, match="needs --tls-ca-file"):
        security_for("tls://10.0.0.5:8786")


def test_the_cli_refuses_a_plaintext_remote_scheduler_with_exit_2(tmp_path, capsys):
    (tmp_path / "class").mkdir()
    code = cli.main(["batch", str(tmp_path / "class"), "--exercises", str(EXERCISES / "relu"), "--out",
                     str(tmp_path / "out"), "--scheduler", "tcp://10.0.0.5:8786"])
    assert code == 2
    assert "refused" in capsys.readouterr().err
    assert not (tmp_path / "out" / "submissions").exists(), "nothing graded, nothing written"


# ----------------------------------------------------------------------------- what travels


def test_a_submission_travels_as_bytes_and_stages_as_the_folder_itself(tmp_path):
    """The worker's copy gives staging the same files, problems and ignored entries as the original."""
    folder = tmp_path / "student"
    (folder / "linear").mkdir(parents=True)
    shutil.copyfile(SOLUTIONS / "relu" / "relu.py", folder / "relu.py")
    shutil.copyfile(SOLUTIONS / "linear" / "linear.py", folder / "linear" / "linear.py")
    (folder / "notes.txt").write_text("hello")
    (folder / "huge.py").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    os.symlink("/etc/passwd", folder / "sigmoid.py")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "relu.cpython-311.pyc").write_bytes(b"x")
    bundle = pack_folder(folder)
    assert "huge.py" in bundle.oversized and "huge.py" not in bundle.files, "an oversized file travels as its size"
    assert bundle.links == {"sigmoid.py": "/etc/passwd"}
    assert not any("__pycache__" in name for name in bundle.files)
    copy = bundle.unpack(tmp_path / "worker" / "student")
    wanted = ["relu.py", "linear/linear.py", "huge.py", "sigmoid.py", "missing.py"]
    original = Submission.collect({n: folder / n for n in wanted}, folder)
    travelled = Submission.collect({n: copy / n for n in wanted}, copy)
    assert travelled.files == original.files and set(travelled.files) == {"relu.py", "linear/linear.py"}
    assert travelled.ignored == [i for i in original.ignored if "__pycache__" not in i[0]]
    assert {k: v.replace(str(copy), "") for k, v in travelled.problems.items()} == \
        {k: v.replace(str(folder), "") for k, v in original.problems.items()}
    with pytest.raises(ClusterError, match="outside"):
        FolderBundle(files={"../escape.py": b""}).unpack(tmp_path / "x")


def test_the_course_travels_with_its_course_modules_and_loads_the_same(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(EXERCISES / "relu", course / "relu")
    (course / "course.yaml").write_text("exercises: {relu: 10}\n")
    (course / "my_references.py").write_text("import torch\n\ndef relu(x):\n    return torch.relu(x)\n")
    (course / "data").mkdir()
    (course / "data" / "big.bin").write_bytes(b"x" * 100)  # not a package: not the course's
    spec = load_exercise(course / "relu" / "exercise.yaml")
    bundle = course_bundle([spec])
    assert bundle.exercise_files == ("0/relu/exercise.yaml",)
    assert {"0/course.yaml", "0/my_references.py", "0/relu/exercise.yaml", "0/relu/relu.py"} <= set(bundle.folder.files)
    assert not any(name.startswith("0/data") for name in bundle.folder.files)
    unpacked = bundle.folder.unpack(tmp_path / "worker")
    assert load_exercise(unpacked / bundle.exercise_files[0]).checks == spec.checks
    assert course_bundle([spec]).digest == bundle.digest
    (course / "relu" / "exercise.yaml").write_text((course / "relu" / "exercise.yaml").read_text() + "\n# changed\n")
    assert course_bundle([spec]).digest != bundle.digest


def test_a_submission_that_keeps_killing_its_worker_is_an_error_row(tmp_path):
    specs = [load_exercise(EXERCISES / name / "exercise.yaml") for name in ("relu", "linear")]
    why = "not graded: the Dask worker grading this submission died each time it was tried (KilledWorker ...)"
    report, page = error_report(specs, "student07", "s3cret", why)
    assert why in page
    assert report["score"] == 0 and report["max_score"] == 20 and report["submission"] == "student07"
    assert {e["status"] for e in report["exercises"]} == {"error"}
    assert all(c["message"] == why for e in report["exercises"] for c in e["checks"])
    assert report["run"]["cluster_error"] == why
    (tmp_path / "student07").mkdir()
    (tmp_path / "student07.json").write_text(json.dumps(report))
    rows = list(csv.reader(io.StringIO(grades_csv(specs, [tmp_path / "student07"], tmp_path))))
    assert rows[2] == ["student07", "0", "0", "0", "20", "error"]


# ----------------------------------------------------------------------------- generated specs


def test_the_slurm_script_starts_single_threaded_workers_that_join_the_scheduler():
    text = slurm_script("tls://login1:8786", WorkerSpec(processes=4, memory="2GiB"),
                        TlsFiles("/home/me/ca.pem", "/home/me/w.pem", "/home/me/w.key"), partition="short")
    lines = text.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "#SBATCH --cpus-per-task=4" in lines and "#SBATCH --partition=short" in lines
    assert "#SBATCH --mem=9G" in lines, "4 workers of 2 GiB and 1 GiB for their sandboxes"
    command = next(line for line in lines if "dask_worker" in line).split()
    assert command[command.index("distributed.cli.dask_worker") + 1] == "tls://login1:8786"
    for option, value in [("--nworkers", "4"), ("--nthreads", "1"), ("--memory-limit", "2GiB"),
                          ("--tls-ca-file", "/home/me/ca.pem"), ("--tls-cert", "/home/me/w.pem"),
                          ("--tls-key", "/home/me/w.key")]:
        assert command[command.index(option) + 1] == value, option
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0, "the script parses"


def test_the_kubernetes_spec_is_a_dask_cluster_resource_with_tls_and_root_workers():
    text = kubernetes_spec("registry.example.org/grader:1", WorkerSpec(processes=3), replicas=5,
                           tls_secret="grader-tls", privileged=True)
    resource = yaml.safe_load(text)
    assert (resource["apiVersion"], resource["kind"]) == ("kubernetes.dask.org/v1", "DaskCluster")
    worker = resource["spec"]["worker"]
    assert worker["replicas"] == 5
    container = worker["spec"]["containers"][0]
    assert container["image"] == "registry.example.org/grader:1"
    args = container["args"]
    assert args[:3] == ["dask", "worker", "tls://gradcheck-scheduler:8786"]
    assert args[args.index("--nthreads") + 1] == "1" and args[args.index("--nworkers") + 1] == "3"
    assert args[args.index("--tls-ca-file") + 1] == f"{TLS_MOUNT}/ca.pem"
    assert container["securityContext"] == {"runAsUser": 0, "privileged": True}
    assert worker["spec"]["volumes"] == [{"name": "tls", "secret": {"secretName": "grader-tls"}}]
    scheduler = resource["spec"]["scheduler"]["spec"]["containers"][0]
    assert scheduler["args"][:4] == ["dask", "scheduler", "--protocol", "tls"]
    assert resource["spec"]["scheduler"]["service"]["ports"][0]["port"] == 8786
    plain = yaml.safe_load(kubernetes_spec("img"))
    assert plain["spec"]["worker"]["spec"]["containers"][0]["args"][2] == "tcp://gradcheck-scheduler:8786"
    assert "privileged" not in plain["spec"]["worker"]["spec"]["containers"][0]["securityContext"]
    assert "port-forward" in kubernetes_spec("img"), "a tcp:// cluster is reached through a loopback forward"


def test_cluster_spec_command_prints_them_and_refuses_misuse(capsys):
    assert cli.main(["cluster-spec", "--slurm", "tcp://10.0.0.5:8786", "--processes", "3"]) == 0
    assert "--nworkers 3" in capsys.readouterr().out
    assert cli.main(["cluster-spec", "--kubernetes", "img", "--replicas", "4"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["spec"]["worker"]["replicas"] == 4
    assert cli.main(["cluster-spec", "--slurm", "tls://10.0.0.5:8786"]) == 2
    assert "--tls-ca-file" in capsys.readouterr().err
    assert cli.main(["cluster-spec", "--slurm", "tcp://h:8786", "--memory", "lots"]) == 2
    assert "expected a size" in capsys.readouterr().err


# ----------------------------------------------------------------------------- on a LocalCluster (heavy)

# kind: (relu file, linear file, relu points, linear points, status)
CRASH_IN_FORWARD = "crash"
KINDS = {
    "correct": (None, None, 10, 10, "passed"),
    "buggy-relu": (VARIANTS / "relu" / "bug_no_mask.py", None, 0, 10, "failed"),
    "buggy-linear": (None, VARIANTS / "linear" / "bug_sign_error.py", 10, 0, "failed"),
    "crashing": (CRASH_IN_FORWARD, None, 0, 10, "crashed"),
    "hanging": (REPO_ROOT / "tests" / "adversarial" / "infinite_loop" / "relu.py", None, 0, 10, "timeout"),
}
CLASS = ["correct", "buggy-relu", "crashing", "correct", "hanging", "buggy-linear"]
# wall-clock seconds per exercise: what the hanging submission costs; room for a correct one on a busy
# machine while killed workers restart (importing torch) beside it
TIME_LIMIT = "8"


def _make_class(root):
    course = root / "course"
    for name in ("relu", "linear"):
        shutil.copytree(EXERCISES / name, course / name)
    expected = {}
    for number, kind in enumerate(CLASS):
        folder = root / "class" / f"student{number}-{kind}"
        folder.mkdir(parents=True)
        relu, linear, relu_points, linear_points, status = KINDS[kind]
        shutil.copyfile(SOLUTIONS / "linear" / "linear.py", folder / "linear.py")
        if relu == CRASH_IN_FORWARD:
            source = (SOLUTIONS / "relu" / "relu.py").read_text()
            (folder / "relu.py").write_text(source.replace("ctx.save_for_backward(x)\n",
                                                           "import os; os._exit(3)\n", 1))
        else:
            shutil.copyfile(relu or SOLUTIONS / "relu" / "relu.py", folder / "relu.py")
        if linear:
            shutil.copyfile(linear, folder / "linear.py")
        # grades.csv's columns: the exercises in the order found under the course (linear, relu)
        expected[folder.name] = [str(linear_points), str(relu_points), str(relu_points + linear_points), "20", status]
    return course, root / "class", expected


def _batch(course, root, out, *extra, wait=True):
    command = [sys.executable, "-m", "gradcheck_suite.cli", "batch", str(root), "--exercises", str(course),
               "--out", str(out), "--trials", "2", "--time-limit", TIME_LIMIT, *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def _graded(out):
    rows = list(csv.reader(io.StringIO((out / "grades.csv").read_text())))
    return rows[0], {row[0]: row[1:] for row in rows[2:]}


@pytest.fixture(scope="module")
def cluster():
    """2 worker processes of one thread; a task is given to a worker only when it is free (so that
    the worker running a task is the one that holds it), and a task is dropped after 2 worker deaths."""
    if distributed is None:
        pytest.skip("dask.distributed is not installed (pip install 'gradcheck-suite[cluster]')")
    if not sys.platform.startswith("linux"):
        pytest.skip("autograder mode needs Linux")
    import dask

    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0,
                          "distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                      silence_logs=40) as local, distributed.Client(local) as client:
            yield local.scheduler_address, client


def _kill_worker_running(client, wanted, deadline):
    """SIGKILL the worker process running a task whose key contains `wanted`, and wait until the
    scheduler has dropped it; (its address, the time.time() of the kill), or None."""
    while time.monotonic() < deadline:
        running = [worker for worker, keys in client.processing().items() if any(wanted in str(key) for key in keys)]
        if running:
            worker = running[0]
            try:
                pid = client.run(os.getpid, workers=[worker])[worker]
            except Exception:  # noqa: BLE001 - the worker went away between the two calls: look again
                time.sleep(0.2)
                continue
            killed_at = time.time()
            os.kill(pid, signal.SIGKILL)
            while worker in client.scheduler_info()["workers"] and time.monotonic() < deadline + 60:
                time.sleep(0.1)
            return worker, killed_at
        time.sleep(0.2)
    return None


@pytest.mark.heavy
def test_a_class_on_a_local_cluster_gets_the_local_grades_survives_a_killed_worker_and_resumes(tmp_path, cluster):
    address, client = cluster
    course, root, expected = _make_class(tmp_path)
    local = _batch(course, root, tmp_path / "local", "--jobs", "2")
    assert local.returncode == 0, local.stderr[-3000:]
    header, local_rows = _graded(tmp_path / "local")
    assert header == ["submission", "linear", "relu", "total", "max", "status"]
    assert local_rows == expected, "the local run grades the class as built"

    out = tmp_path / "dask"
    first = _batch(course, root, out, "--scheduler", address)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "6 submissions: 6 to grade, 0 already graded" in first.stderr and "6/6 graded" in first.stderr
    assert (out / "grades.csv").read_text() == (tmp_path / "local" / "grades.csv").read_text()
    assert (out / "class.html").is_file() and len(list((out / "submissions").glob("*.html"))) == 6
    reports = {p.stem: json.loads(p.read_text()) for p in (out / "submissions").glob("*.json")}
    assert set(reports) == set(expected)
    for name, report in reports.items():
        assert report["isolation"]["level"] == json.loads(
            (tmp_path / "local" / "submissions" / f"{name}.json").read_text())["isolation"]["level"], \
            "the worker's sandbox reaches the level a local job's does"
        assert report["run"]["worker"].startswith("tcp://127.0.0.1:")

    # a worker SIGKILLed while it grades: its submission is graded again elsewhere, none is lost
    rerun = _batch(course, root, out, "--scheduler", address, "--force", wait=False)
    killed = _kill_worker_running(client, "gradcheck-student", time.monotonic() + 300)
    stdout, stderr = rerun.communicate(timeout=900)
    assert killed is not None, "no worker was seen grading"
    assert rerun.returncode == 0, stderr[-3000:]
    assert _graded(out) == (header, expected), "every row present, every verdict unchanged"
    # what the killed worker had in hand was graded elsewhere: a report of its own is one it finished
    # before the kill (grading is quick enough for a worker to finish one before it is seen running another)
    worker, killed_at = killed
    from_killed = [p for p in (out / "submissions").glob("*.json")
                   if json.loads(p.read_text())["run"]["worker"] == worker]
    assert all(p.stat().st_mtime < killed_at + 1.0 for p in from_killed), "a report from the worker after it was killed"
    assert len(from_killed) < len(expected), "every submission was graded by the killed worker"

    # a resumed run grades only what is missing
    lost = out / "submissions" / "student2-crashing.json"
    lost.unlink()
    kept = {p: p.stat().st_mtime_ns for p in (out / "submissions").glob("*.json")}
    resumed = _batch(course, root, out, "--scheduler", address)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "6 submissions: 1 to grade, 5 already graded" in resumed.stderr
    assert "student2-crashing" in resumed.stderr and "1/1 graded" in resumed.stderr
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in kept.items())
    assert lost.exists() and _graded(out) == (header, expected)


@pytest.mark.heavy
def test_a_submission_that_kills_each_worker_it_meets_becomes_an_error_row_not_a_stalled_batch(tmp_path, cluster):
    """Stands for a submission that brings its Dask worker down each time (the sandbox keeps student
    code from doing it; a grader bug or the machine's OOM killer may not): the test kills whichever
    worker holds it, every time, and the batch still ends, with an error row for it alone."""
    address, client = cluster
    course, root, expected = _make_class(tmp_path)
    doomed = "student1-buggy-relu"
    stop = threading.Event()
    killed = []

    def keep_killing():
        while not stop.is_set():
            worker = _kill_worker_running(client, f"gradcheck-{doomed}-", time.monotonic() + 1)
            if worker:
                killed.append(worker)

    killer = threading.Thread(target=keep_killing, daemon=True)
    killer.start()
    try:
        done = _batch(course, root, tmp_path / "out", "--scheduler", address)
    finally:
        stop.set()
        killer.join()
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(killed) >= 2, killed  # allowed-failures is 1 here: tried twice, then given up
    _, rows = _graded(tmp_path / "out")
    assert rows[doomed] == ["0", "0", "0", "20", "error"]
    assert {name: row for name, row in rows.items() if name != doomed} == \
        {name: row for name, row in expected.items() if name != doomed}
    report = json.loads((tmp_path / "out" / "submissions" / f"{doomed}.json").read_text())
    assert "died each time it was tried" in report["run"]["cluster_error"]


@pytest.mark.heavy
def test_a_cluster_short_of_the_required_isolation_grades_nothing(tmp_path, cluster):
    """--require-isolation is checked on every worker before any submission is graded (the ceiling
    stands for workers that are not root)."""
    address, client = cluster
    course, root, _ = _make_class(tmp_path)
    client.wait_for_workers(2, timeout=120)  # both back, if an earlier test killed one
    refused = _batch(course, root, tmp_path / "out", "--scheduler", address, "--require-isolation", "full",
                     "--isolation-ceiling", "processes")
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert "cannot grade at full (--require-isolation)" in refused.stderr
    assert refused.stderr.count("tcp://127.0.0.1:") >= 2, "each worker named"
    assert list((tmp_path / "out" / "submissions").glob("*.json")) == []
