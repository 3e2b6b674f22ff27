"""Wraps a root file system tarball as a one-layer image in `docker save` format, which Jib reads
as a base image (`<from><image>tar://...`) with no container engine or registry.

    python3 rootfs_to_image.py ROOTFS.tar OUT.tar --tag NAME:TAG [--env K=V ...] [--user U] [--workdir D]
"""
import argparse
import hashlib
import io
import json
import os
import platform
import shutil
import tarfile
import tempfile

_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64"}


def _sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rootfs")
    parser.add_argument("out")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--user", default="")
    parser.add_argument("--workdir", default="/")
    args = parser.parse_args()

    layer_digest = _sha256_of(args.rootfs)
    config = {
        "architecture": _ARCHITECTURES.get(platform.machine(), platform.machine()),
        "os": "linux",
        "config": {"Env": args.env, "User": args.user, "WorkingDir": args.workdir},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
        "history": [{"created_by": "deploy/container/build-base-image.sh (mmdebstrap)"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    layer_name = f"{layer_digest}/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [args.tag], "Layers": [layer_name]}]

    with tempfile.NamedTemporaryFile(dir=os.path.dirname(os.path.abspath(args.out)), delete=False) as partial, tarfile.open(fileobj=partial, mode="w") as out:
        _add_bytes(out, config_name, config_bytes)
        _add_bytes(out, "manifest.json", json.dumps(manifest).encode())
        out.add(args.rootfs, arcname=layer_name)
    shutil.move(partial.name, args.out)


if __name__ == "__main__":
    main()
