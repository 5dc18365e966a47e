"""Question documents and HIT parameters as MTurk requesters send them."""

from typing import Any

from ledger import accounts
from ledger.escrow import balance

HTML_QUESTION = """<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">
  <HTMLContent><![CDATA[
<!DOCTYPE html>
<html><body>
<form name="mturk_form" method="post" action="https://www.mturk.com/mturk/externalSubmit">
  <p>Is there a cat in the picture?</p>
  <input type="radio" name="cat" value="yes" required> yes
  <input type="radio" name="cat" value="no"> no
  <textarea name="comment"></textarea>
  <input type="submit" value="Submit">
</form>
</body></html>
]]></HTMLContent>
  <FrameHeight>600</FrameHeight>
</HTMLQuestion>"""

EXTERNAL_QUESTION = """<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd">
  <ExternalURL>https://survey.example.org/task?study=7</ExternalURL>
  <FrameHeight>0</FrameHeight>
</ExternalQuestion>"""

QUESTION_FORM = """<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd">
  <Overview><Text>Two short questions.</Text></Overview>
  <Question>
    <QuestionIdentifier>colour</QuestionIdentifier>
    <IsRequired>true</IsRequired>
    <QuestionContent><Text>Which colour is the sky?</Text></QuestionContent>
    <AnswerSpecification>
      <SelectionAnswer>
        <Selections>
          <Selection><SelectionIdentifier>blue</SelectionIdentifier><Text>Blue</Text></Selection>
          <Selection><SelectionIdentifier>green</SelectionIdentifier><Text>Green</Text></Selection>
        </Selections>
      </SelectionAnswer>
    </AnswerSpecification>
  </Question>
  <Question>
    <QuestionIdentifier>why</QuestionIdentifier>
    <QuestionContent><Text>Why?</Text></QuestionContent>
    <AnswerSpecification><FreeTextAnswer/></AnswerSpecification>
  </Question>
</QuestionForm>"""

ANSWER_KEY = """<AnswerKey xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/AnswerKey.xsd">
  <Question>
    <QuestionIdentifier>colour</QuestionIdentifier>
    <AnswerOption><SelectionIdentifier>blue</SelectionIdentifier><AnswerScore>1</AnswerScore></AnswerOption>
    <AnswerOption><SelectionIdentifier>green</SelectionIdentifier><AnswerScore>0</AnswerScore></AnswerOption>
  </Question>
  <Question>
    <QuestionIdentifier>why</QuestionIdentifier>
    <AnswerOption><SelectionIdentifier>because</SelectionIdentifier><AnswerScore>1</AnswerScore></AnswerOption>
  </Question>
</AnswerKey>"""

DESCRIPTION = (
    "Look at a picture and say whether it shows a cat.\n"
    "Purpose: training data for a wildlife camera classifier.\n"
    "Data use: published under an open licence; no personal data is collected."
)


def hit_params(**overrides: Any) -> dict[str, Any]:
    """A CreateHIT call paying 0.50 for an estimated 2 minutes (15.00/h; the floor is 12.00/h)."""
    params: dict[str, Any] = {
        "MaxAssignments": 2,
        "LifetimeInSeconds": 3 * 24 * 3600,
        "AssignmentDurationInSeconds": 600,
        "Reward": "0.50",
        "Title": "Is there a cat?",
        "Keywords": "image, cat, estimated-minutes:2",
        "Description": DESCRIPTION,
        "Question": HTML_QUESTION,
    }
    params.update(overrides)
    return params


# Reward 50 + the founding 10% fee.
SLOT_COST = 55


def available(organisation: Any) -> int:
    return balance(accounts.org_available(organisation)).available


def error_of(excinfo: Any) -> dict[str, Any]:
    """The parsed MTurk error of a botocore ClientError."""
    response = excinfo.value.response
    return {
        "type": response["Error"]["Code"],
        "message": response["Error"]["Message"],
        "turk": response.get("TurkErrorCode"),
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }
