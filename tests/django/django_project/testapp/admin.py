# ruff: noqa: RUF012  (Django's class-level lists: Meta options, migrations, admin)
from django.contrib import admin

from pgpart.django.admin import PartitionedModelAdmin

from .models import Event, Order


@admin.register(Event)
class EventAdmin(PartitionedModelAdmin):
    list_display = ["id", "kind", "created_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False


admin.site.register(Order, PartitionedModelAdmin)
