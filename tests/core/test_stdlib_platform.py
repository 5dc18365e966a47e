"""``platform/`` is a source root, never a package: the standard library's
``platform`` module must keep working in every process of the project."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_stdlib_platform_in_the_test_process() -> None:
    import platform

    assert platform.__file__ is not None
    assert "site-packages" not in platform.__file__
    assert Path(platform.__file__).parent != ROOT / "platform"
    assert platform.system()
    assert platform.python_version().startswith("3.")


def test_no_package_marker_in_platform_folder() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_stdlib_platform_in_manage_py_process() -> None:
    # manage.py puts the repository root first on sys.path, exactly where a
    # package named ``platform`` would shadow the standard library.
    code = "import platform, celery, kombu, uuid; print(platform.system()); print(platform.__file__)"
    out = (
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        .stdout.strip()
        .splitlines()
    )
    assert out[-2] in {"Linux", "Darwin", "Windows"}
    assert not out[-1].startswith(str(ROOT / "platform"))


def test_stdlib_platform_in_celery_process() -> None:
    code = (
        "import sys; sys.path[:0] = ['.', 'platform'];"
        "import coop; import platform; print(platform.system(), coop.celery_app.main)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == [out.stdout.split()[0], "coop"]
    assert out.stdout.split()[0] in {"Linux", "Darwin", "Windows"}
