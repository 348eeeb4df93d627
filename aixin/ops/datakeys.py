"""Sealing for append-only columns (risk reports, case events, task-force progress notes).

Those tables are append-only in the database: no UPDATE, not even from the application. A column
encrypted directly under the keyring would have to be rewritten at every key rotation; instead
each context has a random data key, stored wrapped by the keyring (`DataKey`, a column that
rotation re-wraps like any other), and the rows are sealed under the data key once, for good:
`d<data key id>:<algorithm>:<base64(nonce + ciphertext + tag)>`, the context bound as associated
data. Re-wrapping a data key retires it (`REWRAP_ALSO`): after a rotation each context seals
under a fresh key, which a keyring key that has left the keyring (or leaked) never wrapped.
Unwrapped data keys are kept in memory by the process; a token that does not open with a
remembered key (another database, a rolled-back key) is tried once more with the key as stored.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now

from aixin.lib import crypto

WRAP_CONTEXT = crypto.context_of("ops.DataKey", "wrapped_encrypted")

# What rotation also writes when it re-wraps a data key: the key is retired (kept to open
# what it sealed; the context's next seal makes a new one).
REWRAP_ALSO = {"retired_at": Coalesce(F("retired_at"), Now())}

_lock = threading.Lock()
# data key id → (the wrapped token it was unwrapped from, the keyring object, the key)
_unwrapped: dict[int, tuple[str, Any, bytes]] = {}


def _unwrap(pk: int, wrapped: str) -> bytes:
    ring = crypto.keyring()
    with _lock:
        found = _unwrapped.get(pk)
    if found is not None and found[0] == wrapped and found[1] is ring:
        return found[2]
    key = base64.b64decode(crypto.decrypt(wrapped, context=WRAP_CONTEXT, ring=ring))
    with _lock:
        _unwrapped[pk] = (wrapped, ring, key)
    return key


def _model(model: Any) -> Any:
    if model is not None:
        return model  # a migration's historical model
    from aixin.ops.models import DataKey

    return DataKey


def _stored(pk: int, model: Any = None) -> bytes:
    row = _model(model).objects.filter(pk=pk).values_list("wrapped_encrypted", flat=True).first()
    if row is None:
        raise crypto.DecryptionError(f"data key d{pk} is not in this database")
    return _unwrap(pk, row)


def _current(context: str, model: Any = None) -> tuple[int, str, bytes]:
    """(id, algorithm, key) of the current data key of `context`, made on first use (and after
    a rotation retired the one before)."""
    DataKey = _model(model)
    current = DataKey.objects.filter(context=context)
    if any(f.name == "retired_at" for f in DataKey._meta.fields):  # not in ops 0001's model
        current = current.filter(retired_at__isnull=True)
    row = current.values_list("pk", "algorithm", "wrapped_encrypted").first()
    if row is None:
        algorithm, key = crypto.new_data_key()
        wrapped = crypto.encrypt(base64.b64encode(key).decode(), context=WRAP_CONTEXT)
        try:
            with transaction.atomic():
                made = DataKey.objects.create(context=context, algorithm=algorithm, wrapped_encrypted=wrapped)
        except IntegrityError:  # made meanwhile by another process: use that one
            row = current.values_list("pk", "algorithm", "wrapped_encrypted").get()
        else:
            row = (made.pk, algorithm, wrapped)
    pk, algorithm, wrapped = row
    return pk, algorithm, _unwrap(pk, wrapped)


def seal(plaintext: str, *, context: str, model: Any = None) -> str:
    """`plaintext` as an append-only column stores it ("" stays ""). `model`: DataKey as a
    migration has it."""
    if not plaintext:
        return ""
    pk, algorithm, key = _current(context, model)
    return crypto.seal_with_data_key(plaintext, key_id=pk, algorithm=algorithm, key=key, context=context)


def unseal(token: str, *, context: str, model: Any = None) -> str:
    """The plaintext of a sealed column; crypto.DecryptionError when it does not open."""
    if not token:
        return ""
    pk, _algorithm = crypto.data_key_id(token)
    with _lock:
        found = _unwrapped.get(pk)
    if found is not None and found[1] is crypto.keyring():
        try:
            return crypto.open_with_data_key(token, key=found[2], context=context)
        except crypto.DecryptionError:
            pass  # a key remembered from elsewhere: read it as stored
    return crypto.open_with_data_key(token, key=_stored(pk, model), context=context)


class sealed_text(crypto.encrypted_text):
    """`crypto.encrypted_text` for a `*_sealed` column: sealed under the context's data key."""

    def seal(self, value: str) -> str:
        return seal(value or "", context=self.context)

    def open(self, token: str) -> str:
        return unseal(token, context=self.context)


def sealing_migration(app_label: str, model_name: str, clear: str, sealed: str, context: str) -> Any:
    """A RunPython that seals `clear` into `sealed` for every row (and back, reversed); the
    migration drops the table's append-only triggers around it."""
    from django.db import migrations

    def forward(apps: Any, schema_editor: Any) -> None:
        model, keys = apps.get_model(app_label, model_name), apps.get_model("ops", "DataKey")
        rows = model.objects.exclude(**{clear: ""}).values_list("pk", clear)
        for pk, text in rows.iterator(chunk_size=500):
            model.objects.filter(pk=pk).update(**{sealed: seal(text, context=context, model=keys)})

    def backward(apps: Any, schema_editor: Any) -> None:
        model, keys = apps.get_model(app_label, model_name), apps.get_model("ops", "DataKey")
        rows = model.objects.exclude(**{sealed: ""}).values_list("pk", sealed)
        for pk, token in rows.iterator(chunk_size=500):
            model.objects.filter(pk=pk).update(**{clear: unseal(token, context=context, model=keys)})

    return migrations.RunPython(forward, backward)
