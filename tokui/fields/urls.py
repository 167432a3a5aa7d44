app_name = "fields"
urlpatterns: list = []
