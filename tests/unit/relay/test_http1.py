"""The lean HTTP/1.1 upstream client, one exchange at a time: framing, streaming, keep-alive reuse and retry,
failures, timeouts, compressed bodies, multipart."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import struct
import zlib

import pytest
from aiohttp import web

from clinx.relay.http1 import Http1Client, TransportError, encode_multipart
from tests.unit.relay.http1_servers import JSON, RawHandler, RawServer, ok, read_request, web_server


async def test_json_post_round_trip_sends_exactly_one_content_length(client: Http1Client) -> None:
    seen: dict[str, object] = {}

    async def echo(request: web.Request) -> web.Response:
        seen["headers"] = [(k.decode(), v.decode()) for k, v in request.raw_headers]
        seen["body"] = await request.read()
        seen["path"] = request.raw_path
        response = web.json_response({"ok": True})
        response.headers.add("X-Multi", "a")
        response.headers.add("X-Multi", "b")
        return response

    async with web_server(web.post("/{tail:.*}", echo)) as base:
        body = json.dumps({"model": "m", "messages": []}).encode()
        headers = {**JSON, "Authorization": "Bearer k", "content-length": "999"}
        response = await client.request("POST", f"{base}/v1/a%2Fb?x=%20y", headers, body)
        assert (response.status, response.reason) == (200, "OK")
        assert json.loads(await response.read()) == {"ok": True}
        assert response.headers.get("content-TYPE", "").startswith("application/json")
        assert response.headers["x-multi"] == "a, b"
        assert response.headers.get("X-Absent") is None
        response.release()

    sent = seen["headers"]
    assert isinstance(sent, list)
    names = [name.lower() for name, _ in sent]
    assert names.count("content-length") == 1
    assert ("Content-Length", str(len(body))) in sent
    assert ("Host", base.removeprefix("http://")) in sent
    assert "user-agent" not in names and "accept-encoding" not in names
    assert seen["body"] == body
    assert seen["path"] == "/v1/a%2Fb?x=%20y"


async def test_post_without_body_sends_content_length_zero(client: Http1Client) -> None:
    async def length(request: web.Request) -> web.Response:
        return web.Response(text=request.headers.get("Content-Length", "absent"))

    async with web_server(web.post("/", length)) as base:
        response = await client.request("POST", f"{base}/", {})
        assert await response.read() == b"0"


async def test_event_stream_chunks_arrive_before_the_next_is_sent(client: Http1Client) -> None:
    go = asyncio.Event()

    async def sse(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"data: 1\n\n")
        await go.wait()
        await response.write(b"data: 2\n\n")
        await response.write_eof()
        return response

    async with web_server(web.get("/stream", sse)) as base:
        response = await client.request("GET", f"{base}/stream", {}, idle=5.0)
        chunks = response.iter_any()
        assert await anext(chunks) == b"data: 1\n\n"
        go.set()
        assert [chunk async for chunk in chunks] == [b"data: 2\n\n"]
        # Read to the end: the connection is already back in the pool.
        again = await client.request("GET", f"{base}/stream", {})
        again.close()


async def test_sequential_requests_reuse_one_connection(client: Http1Client) -> None:
    peers: set[object] = set()

    async def count(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.add(request.transport.get_extra_info("peername"))
        return web.Response(body=await request.read())

    async with web_server(web.post("/", count)) as base:
        for i in range(20):
            response = await client.request("POST", f"{base}/", JSON, b'{"i": %d}' % i, total=5.0, idle=5.0)
            assert await response.read() == b'{"i": %d}' % i
            response.release()
    assert len(peers) == 1


@pytest.mark.parametrize("when", ["after_answering", "on_the_next_request"])
async def test_server_closing_an_idle_connection_is_retried_on_a_new_one(client: Http1Client, when: str) -> None:
    async def one_answer_per_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(ok(b"hi"))  # keep-alive by HTTP/1.1 default
        if when == "on_the_next_request":
            await read_request(reader)  # the request raced with our idle close: unanswered

    server = RawServer(one_answer_per_connection)
    async with server.running() as base:
        for _ in range(2):
            response = await client.request("POST", f"{base}/", JSON, b"{}")
            assert await response.read() == b"hi"
    assert server.connections == 2


async def test_failure_after_the_first_response_byte_is_not_retried(client: Http1Client) -> None:
    async def truncate_second(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(ok(b"hi"))
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")

    server = RawServer(truncate_second)
    async with server.running() as base:
        response = await client.request("GET", f"{base}/", {})
        assert await response.read() == b"hi"
        with pytest.raises(TransportError):
            await client.request("GET", f"{base}/", {})
    assert server.connections == 1


async def test_fresh_connection_closed_unanswered_raises_transport_error(client: Http1Client) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    server = RawServer(hang_up)
    async with server.running() as base:
        with pytest.raises(TransportError):
            await client.request("GET", f"{base}/", {})
    assert server.connections == 1


async def test_reset_mid_body_raises_transport_error(client: Http1Client) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
        writer.transport.abort()

    async with RawServer(reset).running() as base:
        response = await client.request("GET", f"{base}/", {})
        assert response.status == 200
        with pytest.raises(TransportError):
            await response.read()
        assert await client.request("GET", f"{base}/", {}) is not None  # the pool recovered


def stall_after(head: bytes) -> RawHandler:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(head)
        await reader.read()  # silent until the client (or the teardown) closes the connection

    return stall


@pytest.mark.parametrize("kind", ["idle", "total"])
@pytest.mark.parametrize("sent", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"])
async def test_timeouts_raise_timeout_error_and_close(client: Http1Client, kind: str, sent: bytes) -> None:
    limits = {kind: 0.05}
    server = RawServer(stall_after(sent))
    async with server.running() as base:
        for _ in range(2):
            with pytest.raises(TimeoutError):
                response = await client.request(
                    "GET", f"{base}/", {}, total=limits.get("total"), idle=limits.get("idle")
                )
                await response.read()
    assert server.connections == 2  # a timed-out connection is closed, never pooled


def compress(data: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(data)
    wbits = -zlib.MAX_WBITS if encoding == "deflate-raw" else zlib.MAX_WBITS
    packer = zlib.compressobj(wbits=wbits)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "deflate-raw"])
@pytest.mark.parametrize("streamed", [False, True])
async def test_compressed_bodies_are_decoded(client: Http1Client, encoding: str, streamed: bool) -> None:
    original = b"".join(b"line %d of a long answer\n" % i for i in range(20000))

    async def packed(request: web.Request) -> web.Response:
        name = encoding.removesuffix("-raw")
        return web.Response(body=compress(original, encoding), headers={"Content-Encoding": name})

    async with web_server(web.get("/", packed)) as base:
        response = await client.request("GET", f"{base}/", {})
        if streamed:
            body = b"".join([chunk async for chunk in response.iter_any()])
        else:
            body = await response.read()
    assert body == original


async def test_multipart_form_is_parsed_by_aiohttp(client: Http1Client) -> None:
    async def form(request: web.Request) -> web.Response:
        fields = await request.post()
        upload = fields["file"]
        assert isinstance(upload, web.FileField)
        return web.json_response(
            {
                "model": fields["model"],
                "filename": upload.filename,
                "type": upload.content_type,
                "content": upload.file.read().hex(),
            }
        )

    audio = bytes(range(256)) * 10
    body, content_type = encode_multipart([("model", "whisper-1"), ("file", ("speech.wav", audio, "audio/wav"))])
    assert content_type.startswith("multipart/form-data; boundary=")
    async with web_server(web.post("/", form)) as base:
        response = await client.request("POST", f"{base}/", {"Content-Type": content_type}, body)
        answer = json.loads(await response.read())
    assert answer == {"model": "whisper-1", "filename": "speech.wav", "type": "audio/wav", "content": audio.hex()}
