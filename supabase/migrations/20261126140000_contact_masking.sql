-- Contact masking: hide email addresses, phone numbers, links and social handles in chat.
--
-- Until a conversation has an accepted booking, LocalGhost (like Airbnb and Withlocals) keeps
-- people from taking the conversation, and the booking, elsewhere. The chat migration calls
-- `private.mask_contact_details` from its message trigger, so no client can skip it. The
-- corpus it is held to lives in tests/supabase/masking_corpus.py.
--
-- What counts as a contact detail (each detected span becomes one `[contact hidden]`):
-- - links: anything after `http(s)://` or `www.`; a bare domain whose last label is a
--   distinctive TLD (`lisbonwalks.com`, `bit.ly/x`); a domain whose TLD is also a word only
--   with a path (`wa.me/351...`, `t.me/ana`), since `arrived.It` is a typo, not a link;
--   spoken domains (`lisbonwalks dot com slash tours`), except after an article or before
--   "bubble" (`the dot com bubble`).
-- - emails: `x@y`, with or without a TLD; disguised forms whose "at" and "dot" are spelled,
--   bracketed or capitalised (`john (at) gmail [dot] com`, `johnATgmailDOTcom`), spaced out
--   letter by letter, or a name at a well-known mail provider (`john at gmail`). A plain
--   "at" needs a dot and a distinctive TLD after it, so "eat at Time Out" is safe.
-- - phones: a run of at least 7 digits or number words (English, Spanish, Portuguese,
--   French) joined only by spaces, dots, dashes, slashes, brackets, `_` or `*` (commas
--   only next to number words: "nine one two, three four five"), optionally led by `+`.
--   Dates, dotted times, year ranges, postal codes (`1100-148`), comma-grouped thousands
--   and amounts next to a currency are set aside first, so `14.06.2026 10:30` or
--   `1.250.000 COP` never form a run, nor do lists ("rooms 101, 102, 103"). Times
--   (`10:30`), flights (`TP 1234`) and house numbers are too short to form one.
-- - handles: `@name`; a platform name then `:`, `-`, `=`, `is` or `id` and a name
--   (`insta: ana`, `my snapchat is ana.lx`, `line id: ana88`); a platform name next to a
--   username-shaped word (letters plus digits, `_` or an inner `.`: `add me on insta ana_lx`,
--   `ana_lx on instagram`). Names of off-platform messaging apps (WhatsApp, Telegram,
--   WeChat, Viber, Skype, ...) are hidden wherever they appear ("whatsapp me"); social
--   networks are not ("I saw your tour on Instagram" stays).
--
-- Neighbouring placeholders merge into one (`whatsapp: +351 ...`). The function is pure and
-- idempotent: masking a masked body changes nothing.
--
-- Cost: it runs in every message insert, so each expensive pattern sits behind a cheap test
-- (a character, a short word list), and patterns are built once per session: they come from
-- `private.contact_pattern`, an immutable function the planner folds into a constant.

-- =====================================================================
-- Functions
-- =====================================================================

-- The regular expressions, by name, built from named parts so each one can be read. Called
-- with a constant name, so each call site is evaluated once per session, not per message.
create or replace function private.contact_pattern(p_name text)
returns text
language plpgsql
immutable
strict
parallel safe
set search_path = ''
as $$
declare
    -- A DNS label; the local part of an address; a handle; what may follow `@` in x@y.
    _label constant text := '[[:alnum:]](?:[[:alnum:]-]*[[:alnum:]])?';
    _atext constant text := '[[:alnum:]!#$%&''*+/=?^_`{|}~.-]+';
    _handle constant text := '[[:alnum:]_](?:[[:alnum:]_.:#-]*[[:alnum:]_])?';
    -- Letters plus a digit, `_` or an inner `.`: what a username looks like, unlike "today".
    _handle_shaped constant text :=
        '(?=[[:alnum:]_]*(?:[0-9_]|\.[[:alnum:]_]))[[:alpha:]_][[:alnum:]_.]*[[:alnum:]_]';
    -- Words that follow "is" or ":" in ordinary sentences ("my insta is private").
    _not_a_handle constant text :=
        '(?!(?:a|an|the|not|no|my|your|so|too|very|really|just|also|still|only|here|there'
        || '|private|public|closed|open|down|broken|blocked|banned|new|old|same|great|good'
        || '|bad|cool|fine|ok|okay|full|empty|free|busy|better|best|popular|useful|easier'
        || '|easy|faster|offline|online|inactive|deleted|gone|everywhere|mine|yours|how'
        || '|what|where|why|when|because|like|for|in|on|at|to|with)(?![[:alnum:]_.]))';
    -- Words before an ordinary "at" ("visit us at lisbonwalks.com" hides the link, not "us").
    _not_a_local constant text :=
        '(?<![[:alnum:]_])(?!(?:i|me|us|you|him|her|them|it|we|they|is|are|was|were|be|been'
        || '|meet|see|stay|staying|stayed|book|booked|eat|arrive|arriving|directly|online'
        || '|look|check|here|there|only|also|available|find|found|visit|reach|contact|email'
        || '|mail|write|tickets|buy|bought|sold|sell|order|ordered|reserve|reserved)\s)';
    -- Top-level domains that are not words in our users' languages: a bare `x.com` is a link.
    _tld constant text :=
        '(?:com|net|org|edu|gov|io|co|info|biz|dev|xyz|ly|gg|tv|ee|pt|fr|br|mx|uk|nl|cl|pe'
        || '|ru|pl|cz|jp|cn|kr|au|nz|ie|ch|dk|fi|gr|ro|hu|tr|ua|vn|th|sg|hk|tw|ph|uy|ec|ve'
        || '|cr|gt|za|ng|ke|ae|il|sa|qa|lt|lv|sk|si|hr|rs|bg)';
    -- TLDs that are also words ("es", "de", "it", "me", "shop"): a link only with a path.
    _tld_wordy constant text :=
        '(?:me|es|de|it|at|be|in|is|to|us|ca|eu|ar|la|my|so|no|do|am|as|se|ma|id|ai|app'
        || '|site|shop|store|link|page|club|travel|online|website|tech|email|social|blog'
        || '|live|art|fun|one|bio|cc|ws|gl|gd|su|tk|ml|ga|cf)';
    -- "at" and "dot" as people disguise them.
    _at_marked constant text :=
        '(?:\s*@\s*|\s*[[({<]\s*(?:at|@|arroba|arobase|a)\s*[])}>]\s*'
        || '|\s+(?:arroba|arobase)\s+)';
    _at_word constant text := '\s+at\s+';
    _dot constant text :=
        '(?:\.|\s+\.\s+|\s*[[({<]\s*(?:dot|punto|ponto|point|\.)\s*[])}>]\s*'
        || '|\s+(?:dot|punto|ponto|point)\s+)';
    -- A local part may spell its dots too: john dot smith at gmail dot com.
    _local constant text := '[[:alnum:]_%+-]+(?:' || _dot || '[[:alnum:]_%+-]+)*';
    _providers constant text :=
        '(?:gmail|googlemail|hotmail|outlook|yahoo|ymail|icloud|protonmail|proton|gmx'
        || '|sapo|yandex|zoho|aol|msn)';
    _path constant text := '/(?:[^\s<>]*[^]\s<>.,;:!?''")])?';
    _spoken_slash constant text := '(?:\s*/\s*|\s+(?:slash|barra)\s+)';
    _end constant text := '(?![[:alnum:]_])';
    -- Platforms: social networks (their names stay) and messaging apps (their names go).
    _social constant text :=
        '(?:insta(?:gram)?|ig|snap(?:chat)?|tik\s?tok|facebook|fb|twitter|threads'
        || '|linkedin|discord|youtube|twitch|reddit|bluesky|bsky|mastodon|kik|tg|wpp'
        || '|line\s+id|gmail|hotmail|outlook|icloud)';
    _apps constant text :=
        '(?:whats\s?app|zap\s?zap|zap|telegram|we\s?chat|weixin|viber|skype|kakao\s?talk'
        || '|kakao|imessage|facetime|threema)';
    _platform constant text := '(?:' || _social || '|' || _apps || ')';
    -- What may sit between the digits of a phone. Not a comma, which separates numbers in
    -- lists ("rooms 101, 102, 103"); commas between number words become spaces first.
    _sep constant text := '[\s./()_*–—-]';
    -- Number words people spell phone numbers with: English, Spanish, Portuguese, French.
    _numbers constant text[] := pg_catalog.string_to_array(
        'zero oh one two three four five six seven eight nine ten eleven twelve thirteen '
        || 'fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty '
        || 'sixty seventy eighty ninety hundred double triple '
        || 'cero uno una dos tres cuatro cinco seis siete ocho nueve diez once doce trece '
        || 'catorce quince veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa '
        || 'um uma dois duas três quatro meia sete oito nove dez onze treze quatorze vinte '
        || 'trinta quarenta cinquenta sessenta oitenta '
        || 'zéro un une deux trois quatre cinq sept huit neuf dix douze treize seize vingt '
        || 'trente quarante cinquante soixante septante nonante',
        ' '
    );
begin
    -- The number words of one length (`number_words_4`: zero, four, five, ...), so that
    -- each can be rewritten in place by a same-length `9~~~`.
    if p_name ~ '^number_words_[0-9]$' then
        return '(?<![[:alpha:]])(?:' || pg_catalog.array_to_string(array(
            select w from pg_catalog.unnest(_numbers) as w
            where pg_catalog.length(w) = pg_catalog.substr(p_name, 14)::integer
        ), '|') || ')(?![[:alpha:]])';
    end if;
    return case p_name
        -- Links with a scheme or www: up to the next space, less trailing punctuation.
        when 'scheme_gate' then '(?:https?|ftp)://|www\.'
        when 'scheme' then
            '(?:https?|ftp)://[^\s<>]*[^]\s<>.,;:!?''")]|www\.[^\s<>]*[^]\s<>.,;:!?''")]'
        -- Emails around a visible `@` or a bracketed/spelled one, and spaced-out letters.
        when 'at_gate' then '@|[[({<]\s*(?:at|a)\s*[])}>]|arroba|arobase'
        when 'at_emails' then
            -- plain; a TLD is optional (`john@gmail`), but `@10` is a time, not a domain
            _atext || '@(?:[[:alpha:]][[:alnum:]-]*|[[:alnum:]-]+(?:\.[[:alnum:]-]+)*'
            || '\.[[:alpha:]][[:alnum:]-]*)'
            || '|(?<![[:alnum:]_])' || _local || _at_marked
            || '(?:' || _label || _dot || ')+(?:' || _tld || '|' || _tld_wordy || ')' || _end
            || '|(?<![[:alnum:]_])' || _local || _at_marked || _providers || _end
            -- j o h n @ g m a i l . c o m
            || '|(?<![[:alnum:]])[[:alnum:]](?:\s[[:alnum:]._-](?![[:alnum:]]))+\s*'
            || '(?:@|[[({<]\s*(?:at|@)\s*[])}>])\s*'
            || '[[:alnum:]](?:\s?[[:alnum:]._-](?![[:alnum:]]))+'
        -- A name at a well-known provider, with or without its TLD: john at gmail (dot com).
        when 'provider_gate' then _providers
        when 'provider_emails' then
            _not_a_local || _local || '(?:' || _at_marked || '|' || _at_word || ')'
            || _providers || '(?:' || _dot || '(?:' || _tld || '|[[:alpha:]]{2,})|\s+' || _tld
            || ')?' || _end
        -- Anything with a dot (plain, spaced, bracketed or spelled) before two letters.
        when 'domain_gate' then
            '[[:alnum:]](?:\.|\s+\.\s+|\s*[[({<]\s*(?:dot|punto|ponto|point|\.)\s*[])}>]\s*)'
            || '[[:alpha:]]{2}|\s(?:dot|punto|ponto|point)\s'
        when 'domains' then
            -- an address behind an ordinary "at", unless it is a link ("at x.com/y")
            _not_a_local || _local || _at_word
            || '(?:' || _label || _dot || ')+' || _tld || _end || '(?!/)'
            -- bare domains
            || '|(?:' || _label || '\.)+' || _tld || _end || '(?:' || _path || ')?'
            || '|(?:' || _label || '\.)+' || _tld_wordy || _path
            -- spoken domains, not after an article and not "dot com bubble"
            || '|(?<![[:alnum:]_])(?!(?:the|a|an|this|that|its|his|her|our|their)\s)'
            || _label || '\s*(?:[[({<]\s*(?:dot|punto|ponto|point)\s*[])}>]'
            || '|\s(?:dot|punto|ponto|point)\s)\s*'
            || '(?:' || _tld || _end || '(?!\s+(?:bubble|boom|era|crash|compan|start))'
            || '(?:' || _spoken_slash || _handle || ')?'
            || '|' || _tld_wordy || _spoken_slash || _handle || ')'
        -- johnATgmailDOTcom: matched case-sensitively, the capitals are the signal.
        when 'at_dot_caps' then '[[:alnum:]._%+-]+AT[[:alnum:]-]+DOT[[:alpha:]]{2,}'
        -- Handles and messaging apps.
        when 'handle_gate' then
            '@|(?<![[:alnum:]_])' || _platform || _end || '|signal\s*:'
        when 'handles' then
            '(?<![[:alnum:]_.%+-])@[[:alpha:]_](?:[[:alnum:]_.]*[[:alnum:]_])?'
            -- platform, a connector, a name
            || '|(?<![[:alnum:]_])' || _platform
            || '(?:\s+(?:id|handle|user(?:name)?|account))?'
            || '(?:\s*(?:[-:=]+>?|=>|→)|\s+(?:is|es|é|est|ist|eh)(?:\s*:)?)\s*@?'
            || _not_a_handle || _handle
            -- "signal" is also a word ("the signal is weak"): only `signal: name`
            || '|(?<![[:alnum:]_])signal\s*:\s*@?' || _not_a_handle || _handle
            -- platform then a username-shaped word, or the other way round
            || '|(?<![[:alnum:]_])' || _platform || '\s+@?' || _handle_shaped || _end
            || '|(?<![[:alnum:]_@])' || _handle_shaped
            || '(?=\s+(?:on|no|na|en|em|sur|via|at|in)\s+' || _platform || _end || ')'
            -- messaging apps by name
            || '|(?<![[:alnum:]_])' || _apps || _end
        -- Number words, whole words only ("someone" holds no "one").
        when 'number_words' then
            '(?<![[:alpha:]])(?:' || pg_catalog.array_to_string(_numbers, '|')
            || ')(?![[:alpha:]])'
        -- A phone-like run in the shadow copy, where each number word reads `9~~~`.
        when 'run' then
            '(?:\+\s?|\(\s?\+?)?[0-9]~*(?:' || _sep || '{0,3}[0-9]~*){6,}'
        -- Dates with a plausible day and month: 14.06.2026, 06/14/26, 2026-06-14. Their
        -- separators get replaced, so no group of more than four digits is left.
        when 'date_dmy' then
            '(^|[^0-9./-])((?:[0-2]?[0-9]|3[01]))[./-]((?:[0-2]?[0-9]|3[01]))[./-]'
            || '((?:19|20)?[0-9]{2})(?![-/.]?[0-9])'
        when 'date_ymd' then
            '(^|[^0-9./-])((?:19|20)[0-9]{2})[./-]((?:[0-2]?[0-9]|3[01]))[./-]'
            || '((?:[0-2]?[0-9]|3[01]))(?![-/.]?[0-9])'
        -- Numbers that look like runs but are not phones, one pattern a line (one large
        -- alternation costs several times the sum of its parts). Each may take one
        -- character before it: only digits get blanked, so that is harmless.
        when 'not_a_phone' then pg_catalog.concat_ws(
            E'\n',
            -- (a number "starts" where no digit and separator come right before it)
            -- day and month, or a dotted time: 14.06, 12/05, 10.30
            '(?:^|[^0-9./])(?:[0-2]?[0-9]|3[01])[./][0-5]?[0-9](?![./]?[0-9])',
            -- year ranges: 1910-1920, 1747–1755
            '(?:^|[^0-9./-]|(?:^|[^0-9])[./-])'
            || '(?:1[0-9]|20)[0-9]{2}\s?[-–/]\s?(?:1[0-9]|20)[0-9]{2}(?![0-9])',
            -- Portuguese postal codes: 1100-148
            -- (not after an area code: "(21) 1234-567" is a phone)
            '(?:^|[^0-9./)\s-]|[^./)\s-]\s|(?:^|[^0-9])[./-])[0-9]{4}-[0-9]{3}(?![-. ]?[0-9])',
            -- thousands grouped by commas: 1,254 or 2,800,000
            '(?:^|[^0-9./-]|(?:^|[^0-9])[./-])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])',
            -- amounts after a currency: €1.250.000, R$ 150, USD 1,200
            '(?:[€$£¥₹₩]|(?:^|[^[:alpha:]])(?:eur|usd|gbp|brl|cop|mxn|ars|clp|chf))\s?'
            || '[0-9]+(?:[.,][0-9]+)*',
            -- amounts before one: 1 200 000 €, 1.250.000 COP, 2.500 pesos
            '(?:^|[^0-9])(?:[0-9]{1,3}(?:[., ][0-9]{3})+|[0-9]+)(?:[.,][0-9]{1,2})?\s?'
            || '(?:[€$£]|(?:eur|euros?|usd|dollars?|dólares|pesos|reais|reales|soles|cop'
            || '|mxn|ars|clp|brl|gbp|chf)(?![[:alpha:]]))'
        )
        when 'merge' then '\[contact hidden\](?:[\s:;,./|+-]*\[contact hidden\])+'
    end;
end
$$;

-- The masked form of a message body; the body itself when nothing is found. Links and
-- emails go first (they may hold digits: `wa.me/351912345678`), then phone runs, then
-- handles and app names (so `tg: 912 345 678` loses the whole number, not its first group).
create or replace function private.mask_contact_details(body text)
returns text
language plpgsql
immutable
strict
parallel safe
set search_path = ''
as $$
declare
    _hidden constant text := '[contact hidden]';
    _work text := body;
    _lengths integer[];
    _len integer;
    _pattern text;
    _shadow text;
    _win text;
    _out text;
    _pos integer;
    _from integer;
    _start integer;
    _end integer;
    _win_start integer;
    _at integer;
    _s integer;
    _e integer;
begin
    -- Links and emails.
    if _work ~* private.contact_pattern('scheme_gate') then
        _work := pg_catalog.regexp_replace(
            _work, private.contact_pattern('scheme'), _hidden, 'gi'
        );
    end if;
    if _work ~* private.contact_pattern('at_gate') then
        _work := pg_catalog.regexp_replace(
            _work, private.contact_pattern('at_emails'), _hidden, 'gi'
        );
    end if;
    if _work ~* private.contact_pattern('provider_gate') then
        _work := pg_catalog.regexp_replace(
            _work, private.contact_pattern('provider_emails'), _hidden, 'gi'
        );
    end if;
    if _work ~* private.contact_pattern('domain_gate') then
        _work := pg_catalog.regexp_replace(
            _work, private.contact_pattern('domains'), _hidden, 'gi'
        );
    end if;
    if _work ~ private.contact_pattern('at_dot_caps') then
        _work := pg_catalog.regexp_replace(
            _work, private.contact_pattern('at_dot_caps'), _hidden, 'g'
        );
    end if;

    -- Phones. Runs are looked for in a shadow copy of the same length, where every number
    -- word reads as one digit (`five` -> `9~~~`) and the digits of dates, prices and postal
    -- codes are blanked (`#`); the runs found there are masked at the same positions.
    _shadow := _work;
    _lengths := array(
        select distinct pg_catalog.length(m[1])
        from pg_catalog.regexp_matches(_work, private.contact_pattern('number_words'), 'gi') as m
    );
    foreach _len in array _lengths loop
        _shadow := pg_catalog.regexp_replace(
            _shadow,
            case _len
                when 2 then private.contact_pattern('number_words_2')
                when 3 then private.contact_pattern('number_words_3')
                when 4 then private.contact_pattern('number_words_4')
                when 5 then private.contact_pattern('number_words_5')
                when 6 then private.contact_pattern('number_words_6')
                when 7 then private.contact_pattern('number_words_7')
                when 8 then private.contact_pattern('number_words_8')
                else private.contact_pattern('number_words_9')
            end,
            '9' || pg_catalog.repeat('~', _len - 1),
            'gi'
        );
    end loop;
    if _lengths <> '{}' then
        _shadow := pg_catalog.regexp_replace(_shadow, '(~),', '\1 ', 'g');
        _shadow := pg_catalog.regexp_replace(_shadow, ',(\s*[0-9]~)', ' \1', 'g');
    end if;
    -- Full dates are the commonest long number in travel chat: break them up front
    -- (14.06.2026 -> 14#06#2026), so they never even become candidates.
    if _shadow ~ '[0-9][./-][0-9]{1,2}[./-][0-9]' then
        _shadow := pg_catalog.regexp_replace(
            _shadow, private.contact_pattern('date_dmy'), '\1\2#\3#\4', 'g'
        );
        _shadow := pg_catalog.regexp_replace(
            _shadow, private.contact_pattern('date_ymd'), '\1\2#\3#\4', 'g'
        );
    end if;
    if _shadow ~ private.contact_pattern('run') then
        _out := '';
        _pos := 1;
        _from := 1;
        loop
            -- A candidate run; then its window (with room for a currency word either side)
            -- with dates, prices and postal codes blanked; then what is left of the run.
            _start := pg_catalog.regexp_instr(_shadow, private.contact_pattern('run'), _from);
            exit when _start = 0;
            _end := pg_catalog.regexp_instr(
                _shadow, private.contact_pattern('run'), _from, 1, 1
            );
            _from := _end;
            _win_start := greatest(_start - 10, 1);
            _win := pg_catalog.substr(_shadow, _win_start, _end + 10 - _win_start);
            foreach _pattern in array pg_catalog.string_to_array(
                private.contact_pattern('not_a_phone'), E'\n'
            ) loop
                _at := 1;
                loop
                    _s := pg_catalog.regexp_instr(_win, _pattern, _at, 1, 0, 'i');
                    exit when _s = 0;
                    _e := pg_catalog.regexp_instr(_win, _pattern, _at, 1, 1, 'i');
                    _win := pg_catalog.overlay(
                        _win,
                        pg_catalog.translate(
                            pg_catalog.substr(_win, _s, _e - _s), '0123456789', '##########'
                        ),
                        _s,
                        _e - _s
                    );
                    _at := _e;
                end loop;
            end loop;
            _at := _start - _win_start + 1;
            loop
                _s := pg_catalog.regexp_instr(_win, private.contact_pattern('run'), _at);
                exit when _s = 0 or _win_start + _s > _end;
                _e := pg_catalog.regexp_instr(_win, private.contact_pattern('run'), _at, 1, 1);
                _out := _out || pg_catalog.substr(_work, _pos, _win_start + _s - 1 - _pos)
                    || _hidden;
                _pos := least(_win_start + _e - 1, _end);
                _at := _e;
            end loop;
        end loop;
        _work := _out || pg_catalog.substr(_work, _pos);
    end if;

    -- Handles and messaging apps.
    if _work ~* private.contact_pattern('handle_gate') then
        _work := pg_catalog.regexp_replace(
            _work, private.contact_pattern('handles'), _hidden, 'gi'
        );
    end if;

    if pg_catalog.strpos(_work, _hidden) > 0 then
        _work := pg_catalog.regexp_replace(_work, private.contact_pattern('merge'), _hidden, 'g');
    end if;
    return _work;
end
$$;

-- Whether a body holds anything `mask_contact_details` would hide.
create or replace function private.has_contact_details(body text)
returns boolean
language sql
immutable
strict
parallel safe
set search_path = ''
as $$
    select private.mask_contact_details(body) <> body
$$;

-- =====================================================================
-- Grants
-- =====================================================================

-- Message triggers run as the sender, so the API roles that write messages call these.
revoke all on function private.contact_pattern(text) from public;
revoke all on function private.mask_contact_details(text) from public;
revoke all on function private.has_contact_details(text) from public;
grant execute on function private.contact_pattern(text) to authenticated, service_role;
grant execute on function private.mask_contact_details(text) to authenticated, service_role;
grant execute on function private.has_contact_details(text) to authenticated, service_role;
