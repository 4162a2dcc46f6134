"""Round 14 of issue 20: what r13 (tuning data since round 14) taught, as general rules.

- Another vendor's product or office equipment can be the context of a Microsoft 365 question, not its subject
  (`scope.context_words`): the brand a phishing message fakes, the app staff must be stopped from copying data
  into, an office device that sends mail over SMTP or IMAP, an antivirus weighed against Microsoft's own. Named
  any other way, the vendor is still the subject and the question is refused.
- Everyday names of the portal's and the articles' words: a pop-up is a window, a term that rolls over renews,
  numbers are bumped up, something queued is scheduled; "trying to" and "as well" are ways of speaking; a
  dispute at law (sued, a tribunal, a court) is why a mailbox is put on litigation hold.

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

from opkalla_portal import scope, vocabulary
from opkalla_portal.services.knowledge import knowledge_index, ranked_articles
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question

LURE = "a fake Dropbox message asked the girls in accounts to sign in, how do we report it"
COPY_OUT = "can we block staff pasting customer lists from Outlook into Telegram"
COPY_IN = "how do I copy our contacts into Telegram"
DEVICE = "our scanner sends scans to email over SMTP, will it break when basic auth is switched off"
DEVICE_ALONE = "the copier in the back office is jammed again"
ANTIVIRUS = "is Microsoft Defender enough or do we still need to pay for McAfee on our laptops"
ANTIVIRUS_ALONE = "our McAfee renewal is due next week, can we cancel it"
SAYINGS = {
    "the popup wont close": ["window", "close"],
    "does it just roll over at the end": ["renew", "end"],
    "bump our seats up by two": ["increas", "licens"],
    "trying to decide on a plan": ["decid", "subscript"],
    "anything queued": ["schedul"],
    "can I buy Visio through you as well": ["buy", "microsoft", "opkalla"],
    "we are being sued": ["litig"],
}
HOLD = "the tribunal needs the old drivers emails preserved, how"


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question(
        [LURE, COPY_OUT, COPY_IN, DEVICE, DEVICE_ALONE, ANTIVIRUS, ANTIVIRUS_ALONE, HOLD, *SAYINGS]
    )


def test_a_vendor_that_is_the_context_is_not_out_of_scope():
    known = knowledge_index()._known
    assert scope.context_words(LURE) >= {"dropbox"}
    assert scope.out_of_scope_words(COPY_OUT, known) == []
    assert scope.out_of_scope_words(DEVICE, known) == []
    assert scope.out_of_scope_words(ANTIVIRUS, known) == []


def test_named_any_other_way_the_vendor_is_still_the_subject():
    known = knowledge_index()._known
    assert scope.out_of_scope_words(COPY_IN, known) == ["telegram"]  # copying in is Telegram's business
    assert scope.out_of_scope_words(DEVICE_ALONE, known) == ["copier"]  # no mail sent: office equipment
    assert scope.out_of_scope_words(ANTIVIRUS_ALONE, known) == ["mcafee"]  # no Microsoft product weighed
    index = knowledge_index()
    for question in (COPY_IN, DEVICE_ALONE, ANTIVIRUS_ALONE):
        assert index.search(question) == [], question


def test_questions_about_microsoft_365_in_that_context_are_answered():
    index = knowledge_index()
    assert "defender-office-phishing" in ranked_articles(index.search(LURE))[:3]
    assert "block-legacy-authentication" in ranked_articles(index.search(DEVICE))[:3]
    assert "defender-for-business" in ranked_articles(index.search(ANTIVIRUS))[:3]


def test_everyday_sayings_become_the_articles_words():
    for saying, concepts in SAYINGS.items():
        assert vocabulary.concepts(saying) == concepts, saying


def test_a_dispute_at_law_finds_litigation_hold():
    assert ranked_articles(knowledge_index().search(HOLD))[:1] == ["purview-retention-policies"]
