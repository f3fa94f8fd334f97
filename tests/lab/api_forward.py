#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publish the lab's API server on a host loopback address (test infrastructure, never shipped).

The listening socket is opened in the host's network namespace; then the process joins the lab's hub network
namespace, so every outgoing connection (to the API server on the control-plane node's lab address) is made
inside the lab. Bytes are copied unchanged: TLS is end to end between the client and kube-apiserver.
"""
from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000


def join_netns(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            writer.close()


async def serve(sock: socket.socket, host: str, port: int) -> None:
    async def handle(c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            u_reader, u_writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except (OSError, asyncio.TimeoutError) as exc:
            print(f"api-forward: cannot reach {host}:{port}: {exc}", file=sys.stderr, flush=True)
            c_writer.close()
            return
        await asyncio.gather(pipe(c_reader, u_writer), pipe(u_reader, c_writer))
        for w in (c_writer, u_writer):
            w.close()

    server = await asyncio.start_server(handle, sock=sock)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listen", required=True, help="host address to listen on, 127.0.0.1:PORT")
    ap.add_argument("--netns", required=True, help="network namespace to connect from (/run/netns/NAME)")
    ap.add_argument("--target", required=True, help="API server address inside the lab, IP:PORT")
    ap.add_argument("--lab", required=True, help="lab directory (recorded in the command line for lab.sh)")
    args = ap.parse_args()
    lhost, _, lport = args.listen.rpartition(":")
    thost, _, tport = args.target.rpartition(":")
    if lhost not in ("127.0.0.1", "::1"):
        print(f"api-forward: refusing to listen on {lhost}: loopback only", file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_INET6 if ":" in lhost else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((lhost, int(lport)))
    sock.listen(128)
    sock.setblocking(False)
    join_netns(args.netns)
    print(f"api-forward: {args.listen} -> {args.target} via {args.netns}", flush=True)
    asyncio.run(serve(sock, thost, int(tport)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
