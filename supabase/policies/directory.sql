-- The locals directory and the vocabularies: public reading, no client writes.

-- Every listed local's card, for anyone, signed in or not.
drop policy if exists local_cards_select_all on public.local_cards;
create policy local_cards_select_all on public.local_cards
for select to anon, authenticated
using (true);

drop policy if exists languages_select_all on public.languages;
create policy languages_select_all on public.languages
for select to anon, authenticated
using (true);

drop policy if exists currencies_select_all on public.currencies;
create policy currencies_select_all on public.currencies
for select to anon, authenticated
using (true);

drop policy if exists expertise_tags_select_all on public.expertise_tags;
create policy expertise_tags_select_all on public.expertise_tags
for select to anon, authenticated
using (true);
