"""What `searchKeyword` (and the admin's search box) matches, and the one index that serves it.

A keyword matches a customer when one of the searched columns contains it, ignoring case:
`icontains` on each column, OR-ed. On PostgreSQL that condition alone could only be served by one
trigram index per column, and every write then updates eight GIN indexes (half of a bulk import's
time went there; docs/performance.md). Instead the searched columns are joined, with a space
between them, into one *search document*, and a single trigram index (migration 0005) covers
`UPPER(document)`. The search asks for both:

    UPPER(document) LIKE UPPER('%kw%')  AND  (UPPER(display_name) LIKE UPPER('%kw%') OR …)

The first condition is what the index answers; the second is the exact rule, checked only on the
rows the index found. A keyword that spans two columns ("Doe +1") matches the document but no
column, so the second condition keeps the answer exactly the per-column rule. Trigrams never
cross the separating space (pg_trgm splits words on it), so the one index holds no entry the
eight did not.
"""

from django.db.models import F, Func, Q, TextField

SEARCHED_ATTRIBUTES = (
    "display_name",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "work_phone",
    "personal_phone",
    "code",
)
# The only searched column that may be NULL (a customer without a code).
_NULLABLE = {"code"}


class _OrEmpty(Func):
    template = "COALESCE(%(expressions)s, '')"
    output_field = TextField()


class SearchDocument(Func):
    """The searched columns in one text. Its SQL has no parameters, so an index can hold it."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(
            *(
                _OrEmpty(F(attribute)) if attribute in _NULLABLE else F(attribute)
                for attribute in SEARCHED_ATTRIBUTES
            )
        )


DOCUMENT_ALIAS = "search_document"


def search(queryset, keyword: str):
    """`queryset` narrowed to the customers `keyword` matches (see the module's docstring)."""
    exact = Q()
    for attribute in SEARCHED_ATTRIBUTES:
        exact |= Q(**{f"{attribute}__icontains": keyword})
    return queryset.alias(**{DOCUMENT_ALIAS: SearchDocument()}).filter(
        Q(**{f"{DOCUMENT_ALIAS}__icontains": keyword}), exact
    )
