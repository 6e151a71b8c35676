"""A real control plane on loopback: etcd, kube-apiserver, kube-controller-manager."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.support.certs import write_pki


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ControlPlane:
    url: str
    kubeconfig: Path
    workdir: Path
    pki: dict[str, Path]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)
    apiserver_cmd: list[str] = field(default_factory=list, repr=False)

    def stop_apiserver(self) -> None:
        """Stops kube-apiserver (SIGTERM, as a rolling restart does); etcd and the rest keep running."""
        proc = self._apiserver()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def start_apiserver(self) -> None:
        """Starts kube-apiserver again with the same command: same port, certificates and etcd."""
        index = self.procs.index(self._apiserver())
        log = self.workdir / "kube-apiserver.log"
        with log.open("ab") as handle:
            handle.write(b"\n--- restarted ---\n")
        self.procs[index] = _start(self.apiserver_cmd, log, append=True)
        _wait(lambda: _ready(self.url, self.pki), "kube-apiserver", self.procs[index], log)

    def _apiserver(self) -> subprocess.Popen[bytes]:
        return next(p for p in self.procs if p.args == self.apiserver_cmd)


def _kubeconfig(path: Path, url: str, pki: dict[str, Path]) -> None:
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": url, "certificate-authority": str(pki["ca.crt"])}}],
        "users": [{"name": "admin", "user": {"client-certificate": str(pki["admin.crt"]),
                                              "client-key": str(pki["admin.key"])}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
    }
    path.write_text(yaml.safe_dump(doc))


def _ready(url: str, pki: dict[str, Path], path: str = "/readyz") -> bool:
    ctx = ssl.create_default_context(cafile=str(pki["ca.crt"]))
    ctx.load_cert_chain(str(pki["admin.crt"]), str(pki["admin.key"]))
    try:
        with urllib.request.urlopen(url + path, context=ctx, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _wait(check: object, what: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if check():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready after {timeout}s:\n{log.read_text()[-3000:]}")


def _start(cmd: list[str], log: Path, append: bool = False) -> subprocess.Popen[bytes]:
    handle = log.open("ab" if append else "wb")
    return subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        proc.terminate()
    for proc in reversed(procs):
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def control_plane(bins: Path, workdir: Path, controller_manager: bool = True) -> Iterator[ControlPlane]:
    pki = write_pki(workdir / "pki")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        client_port, peer_port, api_port = free_port(), free_port(), free_port()
        etcd_log = workdir / "etcd.log"
        procs.append(_start([
            str(bins / "etcd"), "--data-dir", str(workdir / "etcd"), "--name", "test",
            "--listen-client-urls", f"http://127.0.0.1:{client_port}",
            "--advertise-client-urls", f"http://127.0.0.1:{client_port}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"test=http://127.0.0.1:{peer_port}", "--unsafe-no-fsync",
            "--log-level", "warn",
        ], etcd_log))
        url = f"https://127.0.0.1:{api_port}"
        api_log = workdir / "kube-apiserver.log"
        apiserver_cmd = [
            str(bins / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{client_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={api_port}",
            f"--tls-cert-file={pki['apiserver.crt']}", f"--tls-private-key-file={pki['apiserver.key']}",
            f"--client-ca-file={pki['ca.crt']}",
            f"--service-account-key-file={pki['sa.pub']}",
            f"--service-account-signing-key-file={pki['sa.key']}",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-cluster-ip-range=10.96.0.0/24", "--authorization-mode=RBAC",
            "--disable-admission-plugins=ServiceAccount", "--allow-privileged=true",
            f"--cert-dir={workdir / 'apiserver-certs'}", "--v=1",
        ]
        procs.append(_start(apiserver_cmd, api_log))
        _wait(lambda: _ready(url, pki), "kube-apiserver", procs[-1], api_log)
        kubeconfig = workdir / "kubeconfig"
        _kubeconfig(kubeconfig, url, pki)
        if controller_manager:
            kcm_log = workdir / "kube-controller-manager.log"
            procs.append(_start([
                str(bins / "kube-controller-manager"), f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
                "--controllers=garbage-collector-controller,namespace-controller",
                "--leader-elect=false", "--bind-address=127.0.0.1", f"--secure-port={free_port()}",
                f"--cert-dir={workdir / 'kcm-certs'}", "--use-service-account-credentials=false", "--v=1",
            ], kcm_log))
            time.sleep(0.5)
            if procs[-1].poll() is not None:
                raise RuntimeError(f"kube-controller-manager exited:\n{kcm_log.read_text()[-3000:]}")
        yield ControlPlane(url=url, kubeconfig=kubeconfig, workdir=workdir, pki=pki, procs=procs,
                           apiserver_cmd=apiserver_cmd)
    finally:
        _stop(procs)
