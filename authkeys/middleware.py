def rate_limit_headers(get_response):
    """RateLimit-Limit/-Remaining/-Reset on every response to a request the credential's rate
    limit counted.

    authkeys.throttling.CredentialRateThrottle leaves where the counter stands on DRF's request
    (`rate_limit`); a DRF response carries that request in its `renderer_context`, errors'
    responses too, so they get the headers as well as successes.
    """

    def middleware(request):
        response = get_response(request)
        context = getattr(response, "renderer_context", None)
        usage = getattr(context.get("request"), "rate_limit", None) if context else None
        if usage is not None:
            response["RateLimit-Limit"] = str(usage.limit)
            response["RateLimit-Remaining"] = str(usage.remaining)
            response["RateLimit-Reset"] = str(usage.reset)
        return response

    return middleware
