"""The template library through the API (issue 24.3), as on its page: the organisation's own
templates (list, add, read, edit, remove) and the co-op's starter templates (read)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request
from core.api import Pagination, StrictSerializer, paginated
from core.errors import NotFound
from tasks import selectors, services
from tasks.api.access import _user
from tasks.models import TaskTemplate
from tasks.starter_templates import STARTER_TEMPLATES


class TemplateIn(StrictSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    template_html = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="A form with named fields; ${column} is filled from each input row. Or give external_url.",
    )
    external_url = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500, help_text="An https task URL (a survey link)."
    )


class TemplateOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = TaskTemplate
        fields = ["id", "name", "description", "template_html", "external_url", "created_at"]


class StarterTemplateOut(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField(help_text="Use as ?template=starter:<key> on the new batch page.")
    name = serializers.CharField()
    description = serializers.CharField()
    template_html = serializers.CharField()
    external_url = serializers.CharField()
    sample_rows = serializers.CharField(help_text="A sample input file (CSV) with the columns the template needs.")


def _template(organisation: Any, template_id: int) -> TaskTemplate:
    template = selectors.task_templates_for_organisation(organisation=organisation).filter(pk=template_id).first()
    if template is None:
        raise NotFound("template")
    return template


class OrganisationTemplatesView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="organisations_templates_list", responses=paginated(TemplateOut))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.task_templates_for_organisation(organisation=organisation), request, view=self
        )
        return paginator.get_paginated_response(TemplateOut(page, many=True).data)

    @extend_schema(request=TemplateIn, responses={201: TemplateOut})
    def post(self, request: Request, slug: str) -> Response:
        """Add a template to the library: a form template or an external URL, not both."""
        organisation = organisation_for_request(request, slug, "publish")
        data = TemplateIn(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.task_template_save(organisation=organisation, actor=_user(request), **data.validated_data)
        return Response(TemplateOut(template).data, status=201)


class OrganisationTemplateView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=TemplateOut)
    def get(self, request: Request, slug: str, template_id: int) -> Response:
        return Response(TemplateOut(_template(organisation_for_request(request, slug), template_id)).data)

    @extend_schema(request=TemplateIn(partial=True), responses=TemplateOut)
    def patch(self, request: Request, slug: str, template_id: int) -> Response:
        """Edit a template: any field. Giving template_html clears external_url and the other
        way round; a name another template has, or a template without named fields, is 400
        and changes nothing. Batches made from it keep their own copy."""
        organisation = organisation_for_request(request, slug, "publish")
        template = _template(organisation, template_id)
        data = TemplateIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        template = services.task_template_update(
            template=template, actor=_user(request), changes=dict(data.validated_data)
        )
        return Response(TemplateOut(template).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str, template_id: int) -> Response:
        organisation = organisation_for_request(request, slug, "publish")
        services.task_template_delete(template=_template(organisation, template_id), actor=_user(request))
        return Response(status=204)


class StarterTemplatesView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="templates_starters_list", responses=StarterTemplateOut(many=True))
    def get(self, request: Request) -> Response:
        """The co-op's starter templates (image labelling, sentiment, transcription, survey
        link), in the reader's language."""
        return Response(
            [
                {
                    "key": starter.key,
                    "name": str(starter.name),
                    "description": str(starter.description),
                    "template_html": starter.template_html,
                    "external_url": starter.external_url,
                    "sample_rows": starter.sample_rows,
                }
                for starter in STARTER_TEMPLATES
            ]
        )
