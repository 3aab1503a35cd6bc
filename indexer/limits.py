"""The search parameters' defaults and limits, declared once for the library, the CLI, the page and
the API (a module that imports nothing, so that `vnsearch --help` loads neither Whoosh nor numpy)."""

SORTS = ("relevance", "newest")
DEFAULT_SORT = "relevance"
DEFAULT_LIMIT = 10
MAX_QUERY_CHARS = 500
MAX_LIMIT = 100
MAX_PAGE = 1000  # the page and API's: a deep page sorts offset + limit hits, and nobody reads page 1001
MAX_FILTER_CHARS = 200  # the page and API's, for source, category and group
MAX_OFFSET = MAX_PAGE * MAX_LIMIT  # as deep as the deepest page
HIT_FIELDS = ("sapo", "body")  # what a hit can carry besides its snippet, when asked
