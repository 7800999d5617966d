"""The lean HTTP/1.1 upstream client's pool and edges: per-host limits, bodiless answers, release and close,
malformed and hostile input, idle expiry, https, uvloop."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
from pathlib import Path

import pytest
import uvloop
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clinx.relay.http1 import Http1Client, TransportError, encode_multipart
from tests.unit.relay.http1_servers import JSON, RawServer, ok, read_request, until, web_server


async def test_max_per_host_queues_extra_requests() -> None:
    active = 0
    most = 0
    two_in = asyncio.Event()
    gate = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        nonlocal active, most
        active += 1
        most = max(most, active)
        if active == 2:
            two_in.set()
        await gate.wait()
        active -= 1
        return web.Response(text="done")

    client = Http1Client(max_per_host=2)
    async with web_server(web.get("/", held)) as base:

        async def fetch() -> bytes:
            response = await client.request("GET", f"{base}/", {})
            return await response.read()

        tasks = [asyncio.create_task(fetch()) for _ in range(3)]
        await two_in.wait()
        pool = next(iter(client._pools.values()))
        await until(lambda: bool(pool._waiters), "the third request queued in the client, not on its way")
        gate.set()
        assert await asyncio.gather(*tasks) == [b"done"] * 3
        await client.close()
    assert most == 2


async def test_waiting_for_a_slot_counts_against_total_and_frees_nothing() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    client = Http1Client(max_per_host=1)
    async with web_server(web.get("/", hello)) as base:
        first = await client.request("GET", f"{base}/", {})
        with pytest.raises(TimeoutError):
            await client.request("GET", f"{base}/", {}, total=0.05)
        assert await first.read() == b"hello"
        third = await client.request("GET", f"{base}/", {}, total=5.0)
        assert await third.read() == b"hello"
        await client.close()


@pytest.mark.parametrize(("method", "status"), [("GET", 204), ("GET", 304), ("HEAD", 200)])
async def test_answers_without_body_leave_the_connection_reusable(
    client: Http1Client, method: str, status: int
) -> None:
    async def empty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            reason = {200: b"OK", 204: b"No Content", 304: b"Not Modified"}[status]
            length = b"Content-Length: 42\r\n" if method == "HEAD" else b""
            writer.write(b"HTTP/1.1 %d %s\r\n%s\r\n" % (status, reason, length))

    server = RawServer(empty)
    async with server.running() as base:
        for _ in range(3):
            response = await client.request(method, f"{base}/", {})
            assert response.status == status
            assert await response.read() == b""
    assert server.connections == 1


async def test_release_of_an_unread_body_closes_instead_of_pooling(client: Http1Client) -> None:
    peers: set[object] = set()

    async def count(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.add(request.transport.get_extra_info("peername"))
        return web.Response(text="unread")

    async with web_server(web.get("/", count)) as base:
        response = await client.request("GET", f"{base}/", {})
        response.release()
        with pytest.raises(TransportError):
            await response.read()
        response = await client.request("GET", f"{base}/", {})
        assert await response.read() == b"unread"
    assert len(peers) == 2


async def test_informational_answers_are_skipped(client: Http1Client) -> None:
    async def early_hints(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        writer.write(ok(b"final", b"X-Final: yes\r\n"))
        await read_request(reader)

    async with RawServer(early_hints).running() as base:
        response = await client.request("POST", f"{base}/", {}, b"x")
        assert (response.status, response.headers.get("x-final"), response.headers.get("link")) == (200, "yes", None)
        assert await response.read() == b"final"


async def test_body_delimited_by_close_is_read_to_the_end(client: Http1Client) -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")

    async with RawServer(until_close).running() as base:
        response = await client.request("GET", f"{base}/", {})
        assert await response.read() == b"all of it"


async def test_malformed_answer_raises_transport_error(client: Http1Client) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SMTP ready\r\n\r\n")
        await read_request(reader)

    async with RawServer(garbage).running() as base:
        with pytest.raises(TransportError):
            await client.request("GET", f"{base}/", {})


async def test_a_slow_reader_pauses_the_socket_and_still_gets_every_byte(client: Http1Client) -> None:
    big = bytes(range(256)) * (8 * 4096)  # 8 MiB

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(ok(big))
        await writer.drain()
        await read_request(reader)

    async with RawServer(flood).running() as base:
        response = await client.request("GET", f"{base}/", {})
        conn = response._conn
        assert conn is not None
        await until(lambda: conn._paused, "reading paused past the high-water mark")
        assert conn._buffered < len(big)
        assert await response.read() == big


async def test_connect_failure_raises_transport_error(client: Http1Client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(TransportError):
            await client.request("GET", f"http://127.0.0.1:{port}/", {})


@pytest.mark.parametrize("headers", [{"X-Evil": "a\r\nX-Injected: 1"}, {"X-Evil\n": "a"}])
async def test_header_injection_is_refused(client: Http1Client, headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        await client.request("GET", "http://127.0.0.1:1/", headers)


async def test_close_ends_in_flight_responses_and_refuses_new_requests() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await read_request(reader)

    client = Http1Client()
    async with RawServer(slow).running() as base:
        response = await client.request("GET", f"{base}/", {})
        await client.close()
        with pytest.raises(TransportError):
            await response.read()
        with pytest.raises(TransportError):
            await client.request("GET", f"{base}/", {})


async def test_idle_pooled_connections_expire() -> None:
    peers: set[object] = set()

    async def count(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.add(request.transport.get_extra_info("peername"))
        return web.Response(text="x")

    client = Http1Client(idle_timeout=0.0)
    async with web_server(web.get("/", count)) as base:
        for _ in range(2):
            response = await client.request("GET", f"{base}/", {})
            await response.read()
        await client.close()
    assert len(peers) == 2


def test_multipart_escapes_quotes_and_line_breaks_in_names() -> None:
    body, content_type = encode_multipart([('a"b\r\n', "v"), ("f", ('x"y.txt', b"data", "text/plain"))])
    boundary = content_type.split("boundary=")[1].encode()
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"--" + boundary + b"--\r\n")
    assert b'name="a%22b%0D%0A"' in body
    assert b'filename="x%22y.txt"' in body


async def test_an_answer_saying_connection_close_is_not_reused(client: Http1Client) -> None:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            writer.write(ok(b"bye", b"Connection: close\r\n"))  # says close, leaves the socket open

    server = RawServer(closing)
    async with server.running() as base:
        for _ in range(2):
            response = await client.request("GET", f"{base}/", {})
            assert await response.read() == b"bye"
    assert server.connections == 2


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, str]:
    """A TLS server context with a fresh self-signed certificate for 127.0.0.1, and that certificate in PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clinx test")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return server, cert_pem.decode()


async def test_https_verifies_the_server_certificate(tmp_path: Path) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello over {request.scheme}")

    server_tls, cert_pem = self_signed(tmp_path)
    client = Http1Client()
    async with web_server(web.get("/", hello), tls=server_tls) as base:
        with pytest.raises(TransportError, match="certificate"):
            await client.request("GET", f"{base}/", {})  # an unknown issuer is refused
        client._ssl.load_verify_locations(cadata=cert_pem)
        for _ in range(2):
            response = await client.request("GET", f"{base}/", {})
            assert await response.read() == b"hello over https"
        await client.close()


def test_runs_on_uvloop() -> None:
    """The gateway serves on uvloop, whose transports are not asyncio's classes: one streamed and pooled run."""

    async def scenario() -> list[bytes]:
        async def echo(request: web.Request) -> web.Response:
            return web.Response(body=await request.read())

        client = Http1Client()
        async with web_server(web.post("/", echo)) as base:
            bodies = []
            for i in range(3):
                response = await client.request("POST", f"{base}/", JSON, b"%d" % i, total=5.0, idle=5.0)
                bodies.append(b"".join([chunk async for chunk in response.iter_any()]))
            await client.close()
        return bodies

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(scenario()) == [b"0", b"1", b"2"]
