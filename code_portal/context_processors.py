from django.conf import settings


def portal(request):
    user = getattr(request, "user", None)
    return {
        "is_code_staff": bool(user and user.is_authenticated and user.is_code_staff),
        "PRODUCTION": settings.PRODUCTION,
    }
