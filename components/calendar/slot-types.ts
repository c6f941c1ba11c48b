// Types the week view and its slot forms share, apart from both so neither imports the other.

export type CalendarHost = { id: string; name: string; state: string };

/** What a drag (or "Book a slot") selected: the slot the forms open on. */
export type Draft = { hostIds: string[]; startsAt: Date; endsAt: Date };
