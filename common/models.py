"""Model instances built from database rows without Model.__init__'s per-field work."""

from functools import cache

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init


class PlainlyLoaded(models.Model):
    """A model whose instances, read from the database, are built the way Model.__init__ would
    build them, in a quarter of its time (a customer: 4 µs against 16).

    For a row of every concrete field (no `.only()` or `.defer()`), Model.__init__ sends pre_init,
    then sets each field's value through setattr and the field's attribute, then sends post_init;
    for the hot paths' models none of that does anything but store the values (no receivers, no
    attribute with a setter of its own), and it cost 3.6% of a GET's instructions, the request
    reading four instances (`bench/profile_put.py --seed 1 --instructions`, docs/performance.md).
    Here `from_db`, which Django documents as the place to customise loading, stores them
    directly, and leaves everything else (deferred fields, a model with receivers or setters) to
    Model.from_db.
    """

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        attnames = _stored_attnames(cls)
        if (
            attnames is None
            or len(values) != len(attnames)
            or pre_init.has_listeners(cls)
            or post_init.has_listeners(cls)
        ):
            return super().from_db(db, field_names, values)
        instance = cls.__new__(cls)
        state = instance._state = ModelState()
        state.adding, state.db = False, db
        # In the concrete fields' order, as Model.from_db passes a full row to Model.__init__.
        instance.__dict__.update(zip(attnames, values, strict=True))
        return instance


@cache
def _stored_attnames(model: type[models.Model]) -> tuple[str, ...] | None:
    """The concrete fields' attnames, if Model.__init__ does nothing with a full row's values but
    store each in the instance's __dict__ under its attname: no __init__ of the model's own, and
    each attname's class attribute is Django's plain deferred-loading one (a foreign key's too:
    its setter only forgets a cached related object, which a new instance has none of)."""
    if model.__init__ is not models.Model.__init__:
        return None
    attnames = tuple(field.attname for field in model._meta.concrete_fields)
    if any(type(getattr(model, name, None)) not in _PLAIN_ATTRIBUTES for name in attnames):
        return None
    return attnames


_PLAIN_ATTRIBUTES = {DeferredAttribute, ForeignKeyDeferredAttribute}
