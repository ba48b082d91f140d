"""The emulator's connection handling (aml/local/moto_server.py): a request whose body has a known
length keeps its connection alive for the next request, with nothing of it left to drain; a
chunked body is still drained and its connection closed; bodies arrive whole either way."""
from __future__ import annotations

import http.client
import json
import os
import uuid

import pytest

pytestmark = pytest.mark.integration

LIST_TABLES = {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0",
               "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
                                "SignedHeaders=host, Signature=0"}


@pytest.fixture
def connection(local_services):
    from aml.local import aws

    host, port = aws.endpoint_host_port()
    conn = http.client.HTTPConnection(host, port, timeout=30)
    yield conn
    conn.close()


def test_a_body_of_known_length_keeps_the_connection_for_the_next_request(connection):
    answers = []
    for _ in range(3):
        connection.request("POST", "/", body=b"{}", headers=LIST_TABLES)
        response = connection.getresponse()
        answers.append((response.status, response.getheader("Connection"), json.loads(response.read())))
        socket = connection.sock
        assert socket is not None  # http.client drops its socket when the server says close
    assert [(status, close) for status, close, _ in answers] == [(200, None)] * 3
    assert all("TableNames" in body for _, _, body in answers)


def test_a_chunked_body_arrives_whole_and_closes_the_connection(connection):
    from aml.local import aws

    s3, bucket = aws.client("s3"), f"conn-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(300_000)
    connection.putrequest("PUT", f"/{bucket}/chunked")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
                                          "SignedHeaders=host, Signature=0")
    connection.endheaders()
    for start in range(0, len(body), 65_536):
        piece = body[start:start + 65_536]
        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    response.read()
    assert (response.status, response.getheader("Connection")) == (200, "close")
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == body


def test_uploads_through_boto3_arrive_whole(local_services):
    """boto3's PutObject sends `Expect: 100-continue` and a Content-Length: the body is read after
    the interim response, whole, before moto sees the request."""
    from aml.local import aws

    s3, bucket = aws.client("s3"), f"conn-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    bodies = {f"k{i}": os.urandom(size) for i, size in enumerate((0, 1, 1_000_000, 9_000_000))}
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in bodies} == bodies


def test_a_request_refused_after_a_kept_alive_one_closes_the_connection(connection):
    """The next request on a kept-alive connection starts with nothing read: a request the server
    refuses before moto sees it (a header line over http.server's 65,536 bytes) is answered with
    a close, not kept alive on the previous request's account."""
    connection.request("POST", "/", body=b"{}", headers=LIST_TABLES)
    connection.getresponse().read()
    sock = connection.sock
    sock.settimeout(10)  # a connection wrongly kept alive would never end the reply
    sock.sendall(b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n")
    reply = b""
    while chunk := sock.recv(65_536):  # the server closes the connection after its answer
        reply += chunk
    assert reply.startswith(b"HTTP/1.1 431") and b"Connection: close" in reply
