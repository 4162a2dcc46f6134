"""The scope rounds' shared checks: a question refused outright, or left in scope and answered."""

from opkalla_portal import scope, vocabulary
from opkalla_portal.services.knowledge import knowledge_index


def assert_refused_outright(question: str, named: str, near_slugs: tuple[str, ...]) -> None:
    """Names `named` out of scope, is refused whatever the coverage, and however near in meaning
    the articles `near_slugs` are (a cosine of 0.9 each)."""
    index = knowledge_index()
    assert named in scope.out_of_scope_words(question, index._known)
    assert scope.refuse_outright(question, vocabulary.concepts(question), index._known)
    assert index.search(question, vector_scores=dict.fromkeys(near_slugs, 0.9)) == []


def assert_in_scope_and_answered(question: str) -> None:
    index = knowledge_index()
    assert scope.out_of_scope_words(question, index._known) == []
    assert index.search(question)
