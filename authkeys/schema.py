from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "authkeys.authentication.BearerAuthentication"
    name = ["apiKey", "jwt"]

    def get_security_requirement(self, auto_schema):
        # Either credential is enough: two alternatives, not one requirement naming both.
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": (
                    "An API key: `Authorization: Bearer bc_<96 hex characters>`. The key acts "
                    "for its own organization; `organization-id` may be omitted."
                ),
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": (
                    "A JWT access token from `POST /api/auth/token`, sent with the "
                    "`organization-id` header naming the organization to act for."
                ),
            },
        ]
