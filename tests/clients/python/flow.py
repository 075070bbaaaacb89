"""A program written against the Python client generated from openapi/burnbox.json, run against
the live server by tests/clients/run.sh. It uses only the generated package (burnbox_client):
every request goes through a generated operation and every answer is read as a generated model.

Usage: python flow.py BASE_URL ACCOUNT_EMAIL API_KEY
"""

import base64
import io
import os
import sys
from typing import Any, TypeVar

from burnbox_client import AuthenticatedClient, Client
from burnbox_client.api.onetime_secret_v1 import (
    ots_burn_private,
    ots_read_private,
    ots_reveal_secret,
    ots_share,
)
from burnbox_client.api.secrets import (
    burn_secret,
    create_secret,
    get_secret_status,
    view_secret,
)
from burnbox_client.models import (
    BurnedReceipt,
    BurnSecretResponse,
    CreateFileRequest,
    CreateSecretRequest,
    CreateSecretResponse,
    EncryptedSecret,
    ErrorBody,
    ErrorCode,
    KeyType,
    PassphraseParams,
    ReceiptObject,
    ReceiptState,
    RevealedSecret,
    SecretStatusResponse,
    ShareParams,
    ViewSecretRequest,
    ViewSecretResponse,
)
from burnbox_client.types import File, Response, Unset

PASSPHRASE = "correct horse battery staple"
T = TypeVar("T")


def expect(response: Response[Any], model: type[T], status: int) -> T:
    """The answer, parsed as `model`, after checking its status."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    parsed = response.parsed
    assert isinstance(parsed, model), (model, parsed)
    return parsed


def native_text_secret(api: AuthenticatedClient) -> None:
    text = "hunter2 ✓ from the Python client"
    created = expect(
        create_secret.sync_detailed(
            client=api,
            body=CreateSecretRequest(secret=text, passphrase=PASSPHRASE, max_views=2, ttl=3600),
        ),
        CreateSecretResponse,
        200,
    )
    metadata_key, secret_key = created.metadata.key, created.metadata.secret_key
    assert created.metadata.has_passphrase and created.metadata.max_views == 2

    by_metadata = expect(
        get_secret_status.sync_detailed(metadata_key, client=api), SecretStatusResponse, 200
    )
    assert by_metadata.type_ is KeyType.METADATA and by_metadata.secret_key == secret_key
    by_secret = expect(
        get_secret_status.sync_detailed(secret_key, client=api), SecretStatusResponse, 200
    )
    assert by_secret.type_ is KeyType.SECRET and by_secret.view_count == 0

    wrong = expect(
        view_secret.sync_detailed(secret_key, client=api, body=ViewSecretRequest(passphrase="no")),
        ErrorBody,
        401,
    )
    assert wrong.code is ErrorCode.INVALID_PASSPHRASE, wrong
    assert wrong.tries_left == 4 and wrong.request_id

    viewed = expect(
        view_secret.sync_detailed(
            secret_key, client=api, body=ViewSecretRequest(passphrase=PASSPHRASE)
        ),
        ViewSecretResponse,
        200,
    )
    assert viewed.secret == text and viewed.views_remaining == 1, viewed

    burned = expect(
        burn_secret.sync_detailed(metadata_key, client=api), BurnSecretResponse, 200
    )
    assert burned.success
    gone = expect(
        view_secret.sync_detailed(
            secret_key, client=api, body=ViewSecretRequest(passphrase=PASSPHRASE)
        ),
        ErrorBody,
        410,
    )
    assert gone.code is ErrorCode.SECRET_BURNED, gone


def native_file_secret(api: AuthenticatedClient) -> None:
    content = os.urandom(3000)
    created = expect(
        create_secret.sync_detailed(
            client=api,
            body=CreateFileRequest(
                file=File(
                    payload=io.BytesIO(content),
                    file_name="notes.bin",
                    mime_type="application/octet-stream",
                ),
                secret="the key file",
                max_views=1,
                allow_deletion=False,
            ),
        ),
        CreateSecretResponse,
        200,
    )
    status = expect(
        get_secret_status.sync_detailed(created.metadata.secret_key, client=api),
        SecretStatusResponse,
        200,
    )
    assert not isinstance(status.file, Unset), status
    assert status.file.name == "notes.bin" and status.file.size == len(content), status
    # Not allowed by its sender, the recipient's key burns nothing.
    refused = expect(
        burn_secret.sync_detailed(created.metadata.secret_key, client=api), ErrorBody, 404
    )
    assert refused.code is ErrorCode.NOT_FOUND
    expect(burn_secret.sync_detailed(created.metadata.key, client=api), BurnSecretResponse, 200)


def end_to_end_secret(api: AuthenticatedClient) -> None:
    sealed = EncryptedSecret(
        ciphertext=base64.b64encode(os.urandom(48)).decode(),
        iv=base64.b64encode(os.urandom(12)).decode(),
    )
    created = expect(
        create_secret.sync_detailed(client=api, body=CreateSecretRequest(secret=sealed)),
        CreateSecretResponse,
        200,
    )
    assert created.metadata.encrypted
    viewed = expect(
        view_secret.sync_detailed(created.metadata.secret_key, client=api),
        ViewSecretResponse,
        200,
    )
    assert isinstance(viewed.secret, EncryptedSecret), viewed.secret
    assert (viewed.secret.ciphertext, viewed.secret.iv) == (sealed.ciphertext, sealed.iv)


def onetime_secret_dialect(base_url: str, email: str, api_key: str) -> None:
    token = base64.b64encode(f"{email}:{api_key}".encode()).decode()
    basic = AuthenticatedClient(base_url=base_url, token=token, prefix="Basic")

    shared = expect(
        ots_share.sync_detailed(
            client=basic, body=ShareParams(secret="from OTS", passphrase=PASSPHRASE, ttl=3600)
        ),
        ReceiptObject,
        200,
    )
    assert shared.custid == email and shared.state is ReceiptState.NEW
    # A receipt's secret key is absent or null in Onetime Secret's lists; a new one has it.
    secret_key = shared.secret_key
    assert isinstance(secret_key, str), shared
    receipt = expect(
        ots_read_private.sync_detailed(shared.metadata_key, client=basic), ReceiptObject, 200
    )
    assert receipt.state is ReceiptState.NEW and receipt.passphrase_required, receipt
    # The first read marks the receipt viewed.
    again = expect(
        ots_read_private.sync_detailed(shared.metadata_key, client=basic), ReceiptObject, 200
    )
    assert again.state is ReceiptState.VIEWED, again
    revealed = expect(
        ots_reveal_secret.sync_detailed(
            secret_key, client=basic, body=PassphraseParams(passphrase=PASSPHRASE)
        ),
        RevealedSecret,
        200,
    )
    assert revealed.value == "from OTS"

    to_burn = expect(
        ots_share.sync_detailed(client=basic, body=ShareParams(secret="burn me")),
        ReceiptObject,
        200,
    )
    burned = expect(
        ots_burn_private.sync_detailed(to_burn.metadata_key, client=basic, body=PassphraseParams()),
        BurnedReceipt,
        200,
    )
    assert burned.state.state is ReceiptState.BURNED


def over_the_quota(base_url: str) -> None:
    """An anonymous caller (10 requests an hour) meets 429, read as a typed error."""
    anonymous = Client(base_url=base_url)
    for _ in range(30):
        # The generator types `client` as AuthenticatedClient for every operation with a security
        # requirement, though the document's `{}` makes credentials optional here.
        response = get_secret_status.sync_detailed(
            "nosuchsecretkey",
            client=anonymous,  # type: ignore[arg-type]
        )
        if response.status_code == 429:
            error = expect(response, ErrorBody, 429)
            assert error.code is ErrorCode.RATE_LIMIT_EXCEEDED, error
            assert int(response.headers["Retry-After"]) > 0
            assert response.headers["X-RateLimit-Remaining"] == "0"
            return
        expect(response, ErrorBody, 404)
    raise AssertionError("no 429 after 30 anonymous requests")


def main() -> None:
    base_url, email, api_key = sys.argv[1:4]
    with AuthenticatedClient(base_url=base_url, token=api_key) as api:
        native_text_secret(api)
        native_file_secret(api)
        end_to_end_secret(api)
    onetime_secret_dialect(base_url, email, api_key)
    over_the_quota(base_url)
    print("python client: every operation answered as its generated types say")


if __name__ == "__main__":
    main()
