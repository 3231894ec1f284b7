from rest_framework.metadata import SimpleMetadata


class NameOnlyMetadata(SimpleMetadata):
    """OPTIONS answers with the view's name and the Allow header; bodies are described by the
    OpenAPI document at /api/schema, not by introspecting serializers per request (which also
    fails on views whose serializer depends on the action)."""

    def determine_metadata(self, request, view):
        return {"name": view.get_view_name(), "description": view.get_view_description()}
