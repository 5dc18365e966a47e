"""REST endpoints for a worker's saved searches and for messages about a task."""

from typing import Any, cast

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api import StrictSerializer
from tasks import messages, searches
from tasks.models import SavedSearch, TaskThread


def _user(request: Request) -> User:
    return cast(User, request.user)


class SavedSearchIn(StrictSerializer):
    name = serializers.CharField(max_length=80)
    alert = serializers.ChoiceField(choices=SavedSearch.Alert.values, default=SavedSearch.Alert.INBOX)
    min_hourly_pay = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    max_minutes = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    keywords = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    requester = serializers.CharField(required=False, allow_blank=True, default="")


class SavedSearchOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    alert = serializers.CharField()
    min_hourly_pay = serializers.IntegerField(allow_null=True)
    max_minutes = serializers.IntegerField(allow_null=True)
    keywords = serializers.CharField()
    requester = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


def search_out(search: SavedSearch) -> dict[str, Any]:
    return {
        "id": search.pk,
        "name": search.name,
        "alert": search.alert,
        "min_hourly_pay": search.min_hourly_pay,
        "max_minutes": search.max_minutes,
        "keywords": search.keywords,
        "requester": search.requester.slug if search.requester_id else None,  # type: ignore[union-attr]
        "created_at": search.created_at,
    }


class SavedSearchesView(APIView):
    @extend_schema(operation_id="saved_searches_list", responses=SavedSearchOut(many=True))
    def get(self, request: Request) -> Response:
        return Response([search_out(s) for s in searches.saved_searches_for_worker(worker=_user(request))])

    @extend_schema(operation_id="saved_searches_create", request=SavedSearchIn, responses={201: SavedSearchOut})
    def post(self, request: Request) -> Response:
        """Saves the feed's filters (pay per hour in minor units, minutes, keywords, requester
        slug) with an alert: ``none``, ``inbox``, ``email`` or ``push``."""
        data = SavedSearchIn(data=request.data)
        data.is_valid(raise_exception=True)
        search = searches.saved_search_create(worker=_user(request), **data.validated_data)
        return Response(search_out(search), status=201)


class SavedSearchDetailView(APIView):
    @extend_schema(operation_id="saved_searches_delete", responses={204: None})
    def delete(self, request: Request, search_id: int) -> Response:
        searches.saved_search_delete(worker=_user(request), search_id=search_id)
        return Response(status=204)


class MessageIn(StrictSerializer):
    body = serializers.CharField(max_length=messages.MAX_BODY)


class MessageOut(serializers.Serializer):  # type: ignore[type-arg]
    side = serializers.CharField()
    # The worker's pseudonym or the requester's display name; never an e-mail address.
    sender = serializers.CharField()
    body = serializers.CharField()
    at = serializers.CharField()


class ThreadOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    assignment = serializers.IntegerField()
    batch = serializers.CharField()
    worker = serializers.CharField()
    requester = serializers.CharField()
    your_side = serializers.CharField()
    worker_shares_with_case = serializers.BooleanField()
    requester_shares_with_case = serializers.BooleanField()
    messages = MessageOut(many=True)


def thread_out(thread: TaskThread, side: str, *, with_messages: bool = True) -> dict[str, Any]:
    shown = [messages.message_view(m, thread=thread) for m in thread.messages.all()] if with_messages else []
    return {
        "id": thread.pk,
        "assignment": thread.assignment_id,
        "batch": thread.assignment.batch.title,
        "worker": thread.worker.pseudonym,
        "requester": thread.organisation.display_name,
        "your_side": side,
        "worker_shares_with_case": thread.worker_shares_with_case,
        "requester_shares_with_case": thread.requester_shares_with_case,
        "messages": shown,
    }


class ThreadsView(APIView):
    @extend_schema(operation_id="task_threads_list", responses=ThreadOut(many=True))
    def get(self, request: Request) -> Response:
        """The caller's conversations (as worker or as requester staff), without messages."""
        user = _user(request)
        rows = messages.threads_for_user(user=user)[:200]
        return Response(
            [thread_out(t, str(messages.thread_side(thread=t, user=user)), with_messages=False) for t in rows]
        )


class AssignmentMessageView(APIView):
    @extend_schema(operation_id="assignment_message_requester", request=MessageIn, responses={201: ThreadOut})
    def post(self, request: Request, assignment_id: int) -> Response:
        """The worker writes to the requester about an assignment they submitted."""
        data = MessageIn(data=request.data)
        data.is_valid(raise_exception=True)
        message = messages.message_to_requester(
            worker=_user(request), assignment_id=assignment_id, body=data.validated_data["body"]
        )
        thread, side = messages.access_thread(thread_id=message.thread_id, user=_user(request))
        return Response(thread_out(thread, side), status=201)


class ThreadView(APIView):
    @extend_schema(operation_id="task_thread_read", responses=ThreadOut)
    def get(self, request: Request, thread_id: int) -> Response:
        thread, side = messages.access_thread(thread_id=thread_id, user=_user(request))
        return Response(thread_out(thread, side))

    @extend_schema(operation_id="task_thread_reply", request=MessageIn, responses={201: ThreadOut})
    def post(self, request: Request, thread_id: int) -> Response:
        data = MessageIn(data=request.data)
        data.is_valid(raise_exception=True)
        messages.message_reply(thread_id=thread_id, author=_user(request), body=data.validated_data["body"])
        thread, side = messages.access_thread(thread_id=thread_id, user=_user(request))
        return Response(thread_out(thread, side), status=201)


class ShareIn(StrictSerializer):
    share = serializers.BooleanField()


class ThreadShareView(APIView):
    @extend_schema(operation_id="task_thread_share_with_case", request=ShareIn, responses=ThreadOut)
    def post(self, request: Request, thread_id: int) -> Response:
        """Your side's consent to show this conversation in a dispute's case file."""
        data = ShareIn(data=request.data)
        data.is_valid(raise_exception=True)
        thread = messages.thread_share_with_case(
            thread_id=thread_id, user=_user(request), share=data.validated_data["share"]
        )
        return Response(thread_out(thread, str(messages.thread_side(thread=thread, user=_user(request)))))


urlpatterns = [
    path("saved-searches/", SavedSearchesView.as_view(), name="api-saved-searches"),
    path("saved-searches/<int:search_id>/", SavedSearchDetailView.as_view(), name="api-saved-search"),
    path("assignments/<int:assignment_id>/messages/", AssignmentMessageView.as_view(), name="api-assignment-message"),
    path("task-threads/", ThreadsView.as_view(), name="api-task-threads"),
    path("task-threads/<int:thread_id>/", ThreadView.as_view(), name="api-task-thread"),
    path("task-threads/<int:thread_id>/share/", ThreadShareView.as_view(), name="api-task-thread-share"),
]
