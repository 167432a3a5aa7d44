"""The REST API at /api/v1/: authentication, error shapes, and the routers of each app."""

from ninja import NinjaAPI

api = NinjaAPI(title="Tokui API", version="1", urls_namespace="api")
