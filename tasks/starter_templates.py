"""The co-op's starter templates: the task shapes most requesters begin with, offered in
every organisation's template library beside its own templates (``TaskTemplate``).
Their HTML is the requester's to edit; names and descriptions are shown in the reader's
language."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class StarterTemplate:
    key: str
    name: str | Promise
    description: str | Promise
    template_html: str = ""
    external_url: str = ""
    # A sample input file (CSV) showing the columns the placeholders need.
    sample_rows: str = ""


IMAGE_LABELLING = """<p>What does this picture show?</p>
<p><img src="${image_url}" alt="The picture to label" style="max-width:100%"></p>
<form>
  <fieldset><legend>Label</legend>
    <label><input type="radio" name="label" value="${label_a}" required> ${label_a}</label>
    <label><input type="radio" name="label" value="${label_b}"> ${label_b}</label>
    <label><input type="radio" name="label" value="unsure"> Not sure</label>
  </fieldset>
  <p><label>Anything else? <textarea name="comment"></textarea></label></p>
  <p><input type="submit" value="Submit"></p>
</form>
"""

SENTIMENT = """<p>How does the writer feel in this text?</p>
<blockquote>${text}</blockquote>
<form>
  <fieldset><legend>Sentiment</legend>
    <label><input type="radio" name="sentiment" value="positive" required> Positive</label>
    <label><input type="radio" name="sentiment" value="neutral"> Neutral</label>
    <label><input type="radio" name="sentiment" value="negative"> Negative</label>
  </fieldset>
  <p><input type="submit" value="Submit"></p>
</form>
"""

TRANSCRIPTION = """<p>Type the words you hear, exactly as spoken.</p>
<p><audio controls src="${audio_url}"></audio></p>
<form>
  <p><label>Transcript <textarea name="transcript" rows="6" required></textarea></label></p>
  <p><label><input type="checkbox" name="inaudible" value="yes"> Parts are inaudible</label></p>
  <p><input type="submit" value="Submit"></p>
</form>
"""

STARTER_TEMPLATES: tuple[StarterTemplate, ...] = (
    StarterTemplate(
        key="image-labelling",
        name=_("Image labelling"),
        description=_("One picture per row; the worker picks one of two labels or says they are not sure."),
        template_html=IMAGE_LABELLING,
        sample_rows="image_url,label_a,label_b\nhttps://images.example.org/1.jpg,cat,dog\n",
    ),
    StarterTemplate(
        key="sentiment",
        name=_("Sentiment"),
        description=_("One short text per row; the worker says whether it is positive, neutral or negative."),
        template_html=SENTIMENT,
        sample_rows="text\nThe delivery came early and the driver was kind.\n",
    ),
    StarterTemplate(
        key="transcription",
        name=_("Transcription"),
        description=_("One audio clip per row; the worker types what is said."),
        template_html=TRANSCRIPTION,
        sample_rows="audio_url\nhttps://audio.example.org/clip-1.mp3\n",
    ),
    StarterTemplate(
        key="survey-link",
        name=_("Survey link"),
        description=_(
            "Your survey on another site (Qualtrics, LimeSurvey, oTree...). It receives assignmentId, hitId, "
            "workerId and turkSubmitTo as MTurk passed them; it either posts back to turkSubmitTo + "
            "/mturk/externalSubmit or shows a completion code that the worker pastes here."
        ),
        external_url="https://survey.example.org/your-survey",
    ),
)


def starter_template(key: str) -> StarterTemplate | None:
    return next((template for template in STARTER_TEMPLATES if template.key == key), None)
