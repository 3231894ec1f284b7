def rate_limit_headers(get_response):
    """RateLimit-Limit/-Remaining/-Reset on every response to an authenticated request.

    BearerAuthentication leaves the counter's state on the request (`request.rate_limit`); the
    headers are added here so that error responses get them as well as successes.
    """

    def middleware(request):
        response = get_response(request)
        usage = getattr(request, "rate_limit", None)
        if usage is not None:
            response["RateLimit-Limit"] = str(usage.limit)
            response["RateLimit-Remaining"] = str(usage.remaining)
            response["RateLimit-Reset"] = str(usage.reset)
        return response

    return middleware
