"""A partitions page in Django's admin, for partitioned models.

Use :class:`PartitionedModelAdmin` (or mix :class:`PartitionsAdminMixin`
into your ``ModelAdmin``)::

    from django.contrib import admin
    from pgpart.django.admin import PartitionedModelAdmin

    @admin.register(Event)
    class EventAdmin(PartitionedModelAdmin):
        list_display = ["id", "kind", "created_at"]

The model's change list then links to ``<changelist>/partitions/``: the
partitions in bound order with their rows, size, tablespace and a bar of
their size (plain HTML and CSS), the runway, and the ``pgpart.check()``
findings with their fixes. The page is read-only (GET only), for staff with
the view permission on the model (the admin's own rule), and reads the
catalog only (``pgpart.partition_info`` and ``pgpart.check``), so it never
waits for a lock. Nothing of pgpart runs on the other admin pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template import engines
from django.urls import URLPattern, path

from .partitioning import PartitioningAPI

__all__ = ["PartitionedModelAdmin", "PartitionsAdminMixin"]

# One template, inline, so the app ships no template directory; it extends
# the admin's own base, so the page looks like the rest of the admin.
PAGE = """{% extends "admin/base_site.html" %}{% load i18n %}
{% block extrastyle %}{{ block.super }}<style>
.pgpart-bar { background: var(--selected-bg, #e4e4e4); width: 12em; height: 0.9em; }
.pgpart-bar span { display: block; height: 100%; background: var(--primary, #79aec8); }
td.pgpart-num, th.pgpart-num { text-align: right; }
</style>{% endblock %}
{% block breadcrumbs %}<div class="breadcrumbs">
<a href="{% url 'admin:index' %}">{% translate 'Home' %}</a> &rsaquo;
<a href="{% url 'admin:app_list' app_label=opts.app_label %}">{{ opts.app_config.verbose_name }}</a> &rsaquo;
<a href="{{ changelist_url }}">{{ opts.verbose_name_plural|capfirst }}</a> &rsaquo; Partitions
</div>{% endblock %}
{% block content %}<div id="content-main" class="pgpart-partitions">
<p>Table <code>{{ table }}</code>{% if runway %}, runway <strong>{{ runway }}</strong>{% endif %}:
{{ rows|length }} partition{{ rows|length|pluralize }}. Rows and sizes are the catalog's estimates
(as of the last VACUUM or ANALYZE).</p>
<table id="pgpart-partitions"><thead><tr><th>Partition</th><th>Bounds</th><th class="pgpart-num">Rows</th>
<th class="pgpart-num">Size</th><th>Size bar</th><th>Tablespace</th></tr></thead><tbody>
{% for r in rows %}<tr{% if r.info.detach_pending %} class="pgpart-pending"{% endif %}>
<td>{{ r.indent }}<code>{{ r.info.partition }}</code>{% if r.info.detach_pending %} (detach pending){% endif %}</td>
<td>{% if r.info.is_default %}DEFAULT{% elif r.info.lower_bound is not None %}{{ r.info.lower_bound }} &ndash;
{{ r.info.upper_bound }}{% else %}{{ r.info.bound }}{% endif %}</td>
<td class="pgpart-num">{% if r.info.estimated_rows is None %}unknown{% else %}{{ r.info.estimated_rows }}
{% endif %}</td>
<td class="pgpart-num">{{ r.info.size_bytes|default_if_none:0|filesizeformat }}</td>
<td><div class="pgpart-bar" title="{{ r.percent }}% of the largest"><span style="width: {{ r.percent }}%">
</span></div></td>
<td>{{ r.info.tablespace|default_if_none:"" }}</td></tr>
{% empty %}<tr><td colspan="6">No partitions.</td></tr>{% endfor %}
</tbody></table>
<h2>Findings of pgpart.check()</h2>
{% if findings %}<table id="pgpart-findings"><thead><tr><th>Severity</th><th>Code</th><th>Partition</th>
<th>Problem</th><th>Fix</th></tr></thead><tbody>
{% for f in findings %}<tr class="pgpart-{{ f.severity }}"><td>{{ f.severity }}</td><td><code>{{ f.code }}</code></td>
<td>{{ f.partition|default_if_none:"" }}</td><td>{{ f.problem }}</td>
<td>{% if f.fix %}<code>{{ f.fix }}</code>{% endif %}</td></tr>{% endfor %}
</tbody></table>{% else %}<p id="pgpart-no-findings">Nothing to report.</p>{% endif %}
</div>{% endblock %}
"""

CHANGE_LIST = """{% extends "admin/change_list.html" %}
{% block object-tools-items %}<li><a href="{{ pgpart_partitions_url }}">Partitions</a></li>
{{ block.super }}{% endblock %}
"""


class PartitionsAdminMixin:
    """Adds the read-only partitions page to a ``ModelAdmin``."""

    model: Any
    admin_site: admin.AdminSite
    change_list_template: Any

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        page = path(
            "partitions/",
            self.admin_site.admin_view(self.partitions_view),
            name=f"{opts.app_label}_{opts.model_name}_partitions",
        )
        urls: list[URLPattern] = super().get_urls()  # type: ignore[misc]
        return [page, *urls]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from django.urls import reverse

        opts = self.model._meta
        context = {
            **(extra_context or {}),
            "pgpart_partitions_url": reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_partitions"),
        }
        if self.change_list_template is None:  # a template of the admin's own keeps its place
            self.change_list_template = engines["django"].from_string(CHANGE_LIST)
        response: HttpResponse = super().changelist_view(request, extra_context=context)  # type: ignore[misc]
        return response

    def partitions_view(self, request: HttpRequest) -> HttpResponse:
        """The partitions page (GET only; view permission on the model)."""
        from django.urls import reverse

        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        opts = self.model._meta
        api = PartitioningAPI(self.model)
        infos = api.partitions()
        findings = api.check()
        largest = max((i.size_bytes or 0 for i in infos), default=0)
        rows = [
            {
                "info": i,
                "indent": "\u2003" * (i.level - 1),
                "percent": 0 if not largest else round(100 * (i.size_bytes or 0) / largest),
            }
            for i in infos
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Partitions of {opts.verbose_name_plural}",
            "opts": opts,
            "table": opts.db_table,
            "rows": rows,
            "runway": next((i.runway for i in infos if i.runway), None),
            "findings": findings,
            "changelist_url": reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist"),
        }
        html = engines["django"].from_string(PAGE).render(context, request)
        return HttpResponse(html)


class PartitionedModelAdmin(PartitionsAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """``admin.ModelAdmin`` with the partitions page."""
