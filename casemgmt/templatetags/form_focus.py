"""``{% focus_first_error form %}``: a re-shown form opens at its first marked field, with JavaScript or without.

Called from templates/partials/form_errors.html before the fields are drawn: the first field with an error gets
``autofocus`` (or, for an error of the whole form, its summary), so the browser scrolls it into view and puts the
cursor there (static/js/form-errors.js does the same
for pages with JavaScript, and for errors drawn outside a Django form).
"""

from __future__ import annotations

from django import forms, template

register = template.Library()


@register.simple_tag
def focus_first_error(form: forms.BaseForm | None) -> bool:
    """Give the first field with an error ``autofocus``; False when no field has one (the template then puts it on
    the error summary of the whole form)."""
    if form is None or not form.is_bound or not form.errors:
        return False
    for name, field in form.fields.items():
        if name in form.errors:
            field.widget.attrs["autofocus"] = True
            return True
    return False
