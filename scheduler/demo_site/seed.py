"""The demo site's initial content: KazISS-like event posts in English, Russian and Kazakh.

Ids are realistic WordPress ids: mostly growing with time, but translations get later ids than
their originals and one Russian draft (2302) was published long after it was created.

Like kisi.kz, most Russian and Kazakh events exist in one language only; a few are translated
(groups of two and of three languages). Each language's Events category is its own term with
its own slug: `events` (en), `события` (ru, percent-encoded in URLs), `events-kz` (kk).
"""

from __future__ import annotations

from .media import Media, file_block, image_block
from .state import Category, Language, Post, SiteState, default_languages

PRESS = "KazISS Press Service"


def _p(*paragraphs: str) -> str:
    # Paragraphs that are already block markup (lists, quotes, figures) are kept as they are.
    out = []
    for text in paragraphs:
        out.append(text if text.startswith("<") else f"<p>{text}</p>")
    return "\n".join(out)


def _post(
    id: int,
    lang: str,
    slug: str,
    title: str,
    date: str,
    content: str,
    categories: list[str],
    *,
    modified: str | None = None,
    tags: list[str] | None = None,
    group: str | None = None,
    author: str = PRESS,
    charset: str = "utf-8",
    post_type: str = "post",
) -> Post:
    return Post(
        id=id,
        lang=lang,
        slug=slug,
        title=title,
        content_html=content,
        date_gmt=date,
        modified_gmt=modified or date,
        categories=categories,
        tags=tags or [],
        author=author,
        translation_group=group,
        charset=charset,
        post_type=post_type,
    )


def _english_events() -> list[Post]:
    ev = ["events"]
    return [
        _post(
            2368, "en", "experts-discussed-the-process-of-political-transformation-in-kazakhstan",
            "Experts discussed the process of political transformation in Kazakhstan",
            "2025-03-12T06:30:00",
            _p(
                "On 12 March, the Kazakhstan Institute for Strategic Studies under the President of the Republic of Kazakhstan (KazISS) held an expert round table on the process of political transformation in Kazakhstan. The meeting brought together political scientists, members of the Mazhilis, representatives of civil society and the academic community.",
                "Opening the discussion, the Deputy Director of KazISS noted that the constitutional reform of 2022 had launched a long-term transition from a super-presidential model towards a presidential republic with an influential parliament. According to him, the key task for the coming years is to consolidate the new institutions and to make them work in everyday practice rather than only on paper.",
                "Participants paid particular attention to the mixed electoral system, the return of single-member districts and the simplified registration of political parties. Several speakers argued that the growing competition at the 2023 elections had made local politics more visible, while others warned that voter turnout in large cities remained low.",
                "The experts also discussed the role of the Constitutional Court, which has received more than a thousand appeals from citizens since it began its work. In their view, the court has become an important channel of feedback between society and the state.",
                "Following the round table, the participants formulated recommendations on improving political education and on expanding the participation of young people in decision-making. The materials of the meeting will be published in the journal &#8220;Kazakhstan-Spectrum&#8221;.",
            ),
            ev, modified="2025-03-14T08:12:00", tags=["political reform", "round table"], group="transformation",
        ),
        _post(
            2291, "en", "kaziss-hosted-a-round-table-on-the-future-of-the-eurasian-economic-union",
            "KazISS hosted a round table on the future of the Eurasian Economic Union",
            "2024-02-20T05:00:00",
            _p(
                "On 20 February, KazISS hosted a round table &#8220;The Eurasian Economic Union after ten years: results and prospects&#8221;. Economists and international relations experts from Kazakhstan, Kyrgyzstan and Armenia took part in the discussion, both in person and online.",
                "The speakers agreed that the common market of goods is functioning, but that non-tariff barriers remain the main irritant in trade between the member states. Technical regulations, sanitary requirements and the uneven application of the rules of origin continue to create delays at the borders.",
                "A separate session was devoted to the common markets for energy and financial services, which are to be launched by 2025. The participants noted that the deadlines are ambitious and that the harmonisation of national legislation is proceeding at different speeds.",
                "Summing up, the moderator emphasised that for Kazakhstan the union remains an instrument of economic pragmatism, and that the country will continue to defend the principle of consensus in its decision-making bodies.",
            ),
            ev, tags=["EAEU", "economy"],
        ),
        _post(
            2304, "en", "central-asian-think-tanks-met-in-almaty-to-discuss-water-security",
            "Central Asian think tanks met in Almaty to discuss water security",
            "2024-04-17T04:00:00",
            _p(
                "Representatives of the leading think tanks of Central Asia met in Almaty on 17 April for a regional expert forum on water security organised by KazISS with the support of international partners.",
                "The discussion focused on the shrinking flow of the Syr Darya and Amu Darya, the construction of the Qosh Tepa canal in Afghanistan and the modernisation of irrigation systems. According to the experts, up to 40 percent of water is lost in obsolete canals before it reaches the fields.",
                "The forum adopted a set of recommendations, including:",
                "<ul>\n<li>expanding the exchange of hydrological data between the countries of the region;</li>\n<li>introducing water-saving technologies with state co-financing;</li>\n<li>creating a joint early-warning system for floods and droughts.</li>\n</ul>",
                "Participants agreed to hold the next meeting in Tashkent and to prepare a joint analytical report by the end of the year.",
            ),
            ev, tags=["water", "Central Asia"],
        ),
        _post(
            2318, "en", "presentation-of-the-book-kazakhstans-foreign-policy-three-decades-of-multi-vector-diplomacy",
            "Presentation of the book “Kazakhstan’s Foreign Policy: Three Decades of Multi-Vector Diplomacy”",
            "2024-06-05T07:00:00",
            _p(
                "On 5 June, KazISS presented a collective monograph devoted to the foreign policy of independent Kazakhstan. The book covers the period from the establishment of diplomatic relations in the early 1990s to the present day and is based on archival documents and interviews with diplomats.",
                "The authors trace how the multi-vector approach evolved from a survival strategy of a young state into a recognisable foreign policy brand. Separate chapters are devoted to relations with Russia, China, the United States, the European Union and the countries of Central Asia, as well as to nuclear disarmament and the Astana process on Syria.",
                "<blockquote class=\"wp-block-quote\"><p>&#8220;Multi-vector diplomacy is not a balancing act between the great powers, but a consistent defence of national interests by all available means,&#8221; one of the editors of the volume noted.</p></blockquote>",
                "The presentation was attended by diplomats, university lecturers and students. Copies of the book will be sent to the libraries of the country&#8217;s leading universities, and an electronic version is available on the institute&#8217;s website.",
            ),
            ev, tags=["foreign policy", "books"],
        ),
        _post(
            2333, "en", "kaziss-and-the-german-marshall-fund-held-an-expert-dialogue-on-central-asia-and-europe",
            "KazISS and the German Marshall Fund held an expert dialogue on Central Asia and Europe",
            "2024-09-24T08:00:00",
            _p(
                "On 24 September, KazISS and the German Marshall Fund of the United States held an expert dialogue &#8220;Central Asia and Europe: a new agenda for cooperation&#8221; in Astana.",
                "The participants discussed the results of the first Central Asia &#8211; European Union summit, the prospects of the Trans-Caspian International Transport Route and cooperation in the field of critical raw materials. European experts noted the growing interest of businesses in the region as a reliable partner amid the restructuring of global supply chains.",
                "Kazakhstani speakers drew attention to the need for investment not only in the extraction of raw materials, but also in their processing within the region. In their opinion, the creation of added value locally would make the partnership more sustainable and attractive for the societies of Central Asia.",
                "The parties agreed to continue the dialogue in a regular format and to prepare joint publications on the transport and energy connectivity of the two regions.",
            ),
            ev, tags=["Europe", "connectivity"], group="gmf-dialogue",
        ),
        _post(
            2342, "en", "scholars-assessed-the-results-of-the-parliamentary-reform-at-an-expert-session",
            "Scholars assessed the results of the parliamentary reform at an expert session",
            "2024-11-13T06:00:00",
            _p(
                "An expert session on the results of the parliamentary reform was held at KazISS on 13 November. The event was timed to coincide with the first anniversary of the work of the Mazhilis elected under the new mixed electoral system.",
                "The speakers noted that the share of laws initiated by deputies had grown noticeably, and that parliamentary hearings with members of the government had become more frequent and more public. At the same time, they pointed to the limited analytical capacity of deputies&#8217; offices, which makes the legislature dependent on expertise provided by the executive branch.",
                "Particular interest was aroused by a presentation of monitoring data on the activity of deputies elected in single-member districts. According to the authors of the study, such deputies more often address local problems and maintain closer contact with voters.",
                "The participants suggested creating a permanent parliamentary research service and expanding the practice of publishing the regulatory impact analysis of draft laws.",
            ),
            ev, tags=["political reform", "parliament"],
        ),
        _post(
            2357, "en", "a-seminar-on-digital-transformation-of-public-administration-took-place-at-kaziss",
            "A seminar on digital transformation of public administration took place at KazISS",
            "2025-01-22T05:30:00",
            _p(
                "On 22 January, KazISS held a seminar on the digital transformation of public administration for civil servants of central and local government bodies.",
                "The seminar covered the development of the eGov platform, the use of big data in policy-making and the principles of the &#8220;data-driven state&#8221;. The speakers showed how the analysis of administrative data helps to identify the needs of the population before citizens apply to state bodies.",
                "Much attention was paid to personal data protection. Experts noted that public confidence in digital services depends directly on how transparently the state explains the purposes of data collection and how quickly it responds to leaks.",
                "At the end of the seminar, the participants received certificates, and the presentation materials were sent to the <strong>regional akimats</strong> for use in their own training programmes.",
            ),
            ev, tags=["digital government"],
        ),
        _post(
            2381, "en", "experts-from-china-and-kazakhstan-discussed-connectivity-along-the-middle-corridor",
            "Experts from China and Kazakhstan discussed connectivity along the Middle Corridor",
            "2025-05-28T04:45:00",
            _p(
                "KazISS and the Shanghai Institutes for International Studies held a joint conference on the development of transport connectivity along the Middle Corridor on 28 May.",
                "The Chinese side presented estimates according to which container traffic between China and Europe via Kazakhstan and the Caspian Sea could triple by 2030. Kazakhstani experts, for their part, drew attention to bottlenecks: the capacity of the ports of Aktau and Kuryk, the shortage of vessels in the Caspian fleet and the lack of harmonised digital customs procedures.",
                "Participants discussed the experience of the Khorgos &#8211; Eastern Gate special economic zone and the possibilities of creating new logistics hubs in the south of the country.",
                "The conference ended with the signing of a memorandum on the preparation of a joint study on the economic effects of the corridor for the countries along the route.",
            ),
            ev, tags=["connectivity", "China"], group="middle-corridor",
        ),
        _post(
            2390, "en", "kaziss-presented-its-annual-report-on-risks-and-opportunities-for-kazakhstan",
            "KazISS presented its annual report on risks and opportunities for Kazakhstan",
            "2025-07-09T07:15:00",
            _p(
                "On 9 July, KazISS presented its annual analytical report on the main external and internal risks for Kazakhstan and the opportunities they open up.",
                "The report identifies several groups of risks: the fragmentation of the world economy and sanctions pressure, the volatility of commodity prices, climate change and water scarcity, and demographic pressure on the labour market in the southern regions.",
                "At the same time, the authors see opportunities in the relocation of production to the region, in the growing demand for Kazakhstani uranium and agricultural products, and in the development of transit routes bypassing conflict zones.",
                "During the discussion, representatives of ministries and the business community proposed turning the report into a regularly updated monitoring tool. The full text of the report is available in Kazakh, Russian and English.",
            ),
            ev, modified="2025-07-10T03:00:00", tags=["reports"],
        ),
        _post(
            2398, "en", "young-researchers-presented-their-papers-at-the-kaziss-summer-school",
            "Young researchers presented their papers at the KazISS summer school",
            "2025-08-20T09:00:00",
            _p(
                "The tenth summer school of KazISS for young researchers in international relations and political science ended on 20 August.",
                "Over two weeks, thirty participants from universities in Astana, Almaty, Karaganda, Shymkent and Aktobe attended lectures by leading experts, took part in simulation games and worked on their own research projects under the guidance of mentors.",
                "The final papers covered a wide range of topics: from the policy of Kazakhstan towards Afghanistan and the activities of the Organization of Turkic States to the role of social networks in the political mobilisation of young people.",
                "The three best papers will be published in the institute&#8217;s journal, and their authors have been invited to an internship at KazISS.",
                "The organisers thanked the partner universities and announced that applications for the next school will open in the spring.",
            ),
            ev, tags=["youth", "education"],
        ),
        _post(
            2412, "en", "round-table-on-climate-policy-and-the-energy-transition-in-central-asia",
            "Round table on climate policy and the energy transition in Central Asia",
            "2025-10-15T05:00:00",
            _p(
                "On 15 October, KazISS hosted a round table on climate policy and the energy transition in Central Asia with the participation of experts from the Ministry of Energy, international organisations and the business community.",
                "The participants discussed the country&#8217;s strategy to achieve carbon neutrality by 2060, the development of renewable energy sources and the future of coal generation, which still accounts for the bulk of electricity production.",
                "Experts noted that the success of the transition depends on the modernisation of electricity grids and on mechanisms that would protect the residents of single-industry towns from the social consequences of the closure of coal enterprises.",
                '<figure class="wp-block-image size-large"><img decoding="async" src="/wp-content/uploads/2025/10/climate-round-table.jpg" alt="Participants of the round table" class="wp-image-2413"/><figcaption class="wp-element-caption">Participants of the round table at KazISS</figcaption></figure>',
                "Following the meeting, it was decided to prepare an analytical note with proposals for the regional dimension of climate policy.",
            ),
            ev, tags=["climate", "energy", "round table"],
        ),
        _post(
            2427, "en", "kaziss-experts-took-part-in-the-shanghai-cooperation-organisation-think-tank-forum",
            "KazISS experts took part in the Shanghai Cooperation Organisation think-tank forum",
            "2025-12-03T06:00:00",
            _p(
                "A delegation of KazISS experts took part in the annual forum of SCO think tanks held on 2&#8211;3 December.",
                "In their speeches, the Kazakhstani participants presented approaches to strengthening regional security, countering cross-border threats and developing economic cooperation within the organisation, including projects in transport and digital infrastructure.",
                "The forum participants paid special attention to the situation in Afghanistan and to the prospects for involving the country in regional economic projects as a way of supporting stability.",
                "On the sidelines of the forum, the institute&#8217;s representatives held bilateral meetings with colleagues from China, India, Pakistan and Uzbekistan and agreed on joint research for the next year.",
            ),
            ev, tags=["SCO", "security"],
        ),
        # The short one: an announcement whose body is a single sentence pair (~150 characters).
        _post(
            2440, "en", "announcement-round-table-on-regional-security-in-central-asia",
            "Announcement: round table on regional security in Central Asia",
            "2026-01-21T04:00:00",
            _p(
                "On 12 February 2026, KazISS will hold a round table on regional security in Central Asia. Accreditation of journalists is open until 10 February."
            ),
            ev, tags=["announcements"],
        ),
    ]


def _english_other() -> list[Post]:
    return [
        _post(
            2419, "en", "the-kaziss-director-met-with-a-delegation-of-the-japan-institute-of-international-affairs",
            "The KazISS director met with a delegation of the Japan Institute of International Affairs",
            "2025-11-18T05:00:00",
            _p(
                "On 18 November, the Director of KazISS met with a delegation of the Japan Institute of International Affairs led by its President.",
                "The parties discussed the results of the Central Asia plus Japan dialogue, cooperation in energy and critical minerals, and the situation in Eurasia. The Japanese side expressed interest in joint research on the development of the Trans-Caspian route.",
                "Following the meeting, the institutes agreed to hold a joint conference in Tokyo next year and to exchange visiting researchers for periods of up to three months.",
            ),
            ["news"], tags=["Japan"],
        ),
        _post(
            2431, "en", "nuclear-power-in-kazakhstan-what-the-referendum-results-mean",
            "Nuclear power in Kazakhstan: what the referendum results mean",
            "2025-12-20T08:00:00",
            _p(
                "In October 2024, Kazakhstan held a national referendum on the construction of its first nuclear power plant. More than seventy percent of the participants supported the project, which opened the way for the selection of a technology partner and the preparation of the site near Lake Balkhash.",
                "The decision reflects the growing shortage of base-load generation capacity. Most of the country&#8217;s thermal power plants were built in the Soviet period and are heavily worn out, while electricity consumption has been growing by three to four percent a year.",
                "At the same time, the project raises a number of questions: the choice of the international consortium, the financing model, the training of personnel and the transparency of environmental assessments. Public trust will depend on how openly these issues are discussed.",
                "In the author&#8217;s opinion, nuclear energy should be considered not as an alternative to renewable sources, but as part of a balanced energy mix that allows the country to meet its climate commitments without risking energy security.",
            ),
            ["analytics"], author="Dana Akhmetova", tags=["energy", "nuclear"], group="nuclear-analysis",
        ),
        _post(
            2444, "en", "kaziss-launched-a-new-series-of-analytical-podcasts",
            "KazISS launched a new series of analytical podcasts",
            "2026-01-27T06:00:00",
            _p(
                "KazISS has launched &#8220;Strategy Talk&#8221;, a series of analytical podcasts in which the institute&#8217;s experts discuss the main events of international and domestic politics in plain language.",
                "The first episodes are devoted to the outcome of the year in Central Asia, the situation on the world oil market and the reform of higher education. New episodes will be published every two weeks in Kazakh, Russian and English.",
                "The podcasts are available on the institute&#8217;s website and on the main streaming platforms. Listeners can send questions for the next episodes by e-mail.",
            ),
            ["news"], tags=["podcasts"],
        ),
    ]


RU_EVENTS = "события"  # a Cyrillic slug, stored percent-encoded: /category/%d1%81%d0%be…/
KK_EVENTS = "events-kz"  # Polylang's term-slug.php suffixes a slug another language already uses


def _russian_and_kazakh() -> list[Post]:
    ru = [RU_EVENTS]
    return [
        # Cyrillic slug, translation of 2368. Editors shortened it: WordPress caps encoded slugs
        # at 200 octets, about 33 Cyrillic letters.
        _post(
            2369, "ru", "эксперты-обсудили-трансформацию",
            "Эксперты обсудили процесс политической трансформации в Казахстане",
            "2025-03-12T07:10:00",
            _p(
                "12 марта в Казахстанском институте стратегических исследований при Президенте Республики Казахстан (КИСИ) состоялся экспертный круглый стол, посвящённый процессу политической трансформации в Казахстане. В мероприятии приняли участие политологи, депутаты Мажилиса, представители гражданского общества и академического сообщества.",
                "Открывая дискуссию, заместитель директора КИСИ отметил, что конституционная реформа 2022 года положила начало долгосрочному переходу от суперпрезидентской модели к президентской республике с влиятельным парламентом. По его словам, ключевая задача ближайших лет — закрепить новые институты и обеспечить их работу на практике, а не только на бумаге.",
                "Особое внимание участники уделили смешанной избирательной системе, возвращению одномандатных округов и упрощению регистрации политических партий. Эксперты также обсудили роль Конституционного суда, который стал важным каналом обратной связи между обществом и государством.",
                "По итогам круглого стола участники сформулировали рекомендации по развитию политического просвещения и расширению участия молодёжи в принятии решений.",
            ),
            ru, tags=["политическая реформа"], group="transformation",
        ),
        _post(
            2336, "ru", "kisi-i-germanskij-fond-marshalla-proveli-ekspertnyj-dialog",
            "КИСИ и Германский фонд Маршалла провели экспертный диалог о Центральной Азии и Европе",
            "2024-09-24T09:30:00",
            _p(
                "24 сентября в Астане КИСИ и Германский фонд Маршалла США провели экспертный диалог «Центральная Азия и Европа: новая повестка сотрудничества».",
                "Участники обсудили итоги первого саммита «Центральная Азия – Европейский союз», перспективы Транскаспийского международного транспортного маршрута и сотрудничество в сфере критически важного сырья. Европейские эксперты отметили растущий интерес бизнеса к региону как к надёжному партнёру в условиях перестройки глобальных цепочек поставок.",
                "Казахстанские спикеры обратили внимание на необходимость инвестиций не только в добычу сырья, но и в его переработку внутри региона. По их мнению, создание добавленной стоимости на месте сделает партнёрство более устойчивым.",
                "Стороны договорились продолжить диалог в регулярном формате и подготовить совместные публикации по транспортной и энергетической связанности двух регионов.",
            ),
            ru, tags=["Европа"], group="gmf-dialogue",
        ),
        # Served as windows-1251, declared only by <meta charset>: a legacy template quirk.
        _post(
            2302, "ru", "kruglyj-stol-po-voprosam-regionalnoj-bezopasnosti",
            "Круглый стол по вопросам региональной безопасности в Центральной Азии",
            "2025-06-18T05:00:00",
            _p(
                "18 июня в КИСИ прошёл круглый стол «Региональная безопасность в Центральной Азии: вызовы и ответы». В обсуждении приняли участие эксперты из Казахстана, Узбекистана, Кыргызстана и Таджикистана.",
                "Участники рассмотрели ситуацию на афганском направлении, угрозы трансграничной преступности и незаконного оборота наркотиков, а также риски, связанные с нехваткой водных ресурсов. Отдельно обсуждались вопросы кибербезопасности и защиты критической инфраструктуры.",
                "Эксперты сошлись во мнении, что ни одна из стран региона не способна в одиночку противостоять современным вызовам, и высказались за развитие механизмов регулярных консультаций между советами безопасности и профильными ведомствами.",
                "По итогам встречи подготовлен сборник материалов, который будет направлен в заинтересованные государственные органы.",
            ),
            ru, tags=["безопасность"], charset="windows-1251",
        ),
        _post(
            2423, "ru", "v-kisi-sostoyalas-prezentaciya-doklada-o-demograficheskih-tendenciyah",
            "В КИСИ состоялась презентация доклада о демографических тенденциях в Казахстане",
            "2025-11-26T06:20:00",
            _p(
                "26 ноября в КИСИ состоялась презентация аналитического доклада «Демографические тенденции в Казахстане: вызовы и возможности до 2050 года».",
                "Авторы доклада отмечают, что население страны превысило 20 миллионов человек и продолжает расти за счёт высокой рождаемости в южных регионах. Вместе с тем в ближайшие десятилетия страна столкнётся со старением населения на севере и востоке, а также с усилением внутренней миграции в крупные города.",
                "Особое внимание в докладе уделено рынку труда: ежегодно на него выходят более 300 тысяч молодых людей, и для их трудоустройства потребуется ускоренное создание рабочих мест в несырьевых отраслях экономики.",
                "В обсуждении приняли участие представители министерств труда, здравоохранения и национальной экономики, а также демографы ведущих университетов.",
            ),
            ru, tags=["демография"],
        ),
        _post(
            2374, "kk", "sarapshylar-sayasi-transformaciya-uderisin-talqylady",
            "Сарапшылар Қазақстандағы саяси трансформация үдерісін талқылады",
            "2025-03-13T04:00:00",
            _p(
                "12 наурызда Қазақстан Республикасының Президенті жанындағы Қазақстан стратегиялық зерттеулер институтында (ҚСЗИ) Қазақстандағы саяси трансформация үдерісіне арналған сарапшылық дөңгелек үстел өтті. Іс-шараға саясаттанушылар, Мәжіліс депутаттары, азаматтық қоғам және академиялық орта өкілдері қатысты.",
                "Пікірталасты ашқан ҚСЗИ директорының орынбасары 2022 жылғы конституциялық реформа суперпрезиденттік модельден ықпалды парламенті бар президенттік республикаға ұзақ мерзімді өтудің бастауы болғанын атап өтті. Оның айтуынша, алдағы жылдардағы басты міндет — жаңа институттарды нығайту және олардың іс жүзінде жұмыс істеуін қамтамасыз ету.",
                "Қатысушылар аралас сайлау жүйесіне, бір мандатты округтердің қайтарылуына және саяси партияларды тіркеудің жеңілдетілуіне ерекше назар аударды.",
                "Дөңгелек үстел қорытындысы бойынша қатысушылар саяси ағартуды дамыту және жастардың шешім қабылдауға қатысуын кеңейту жөнінде ұсыныстар әзірледі.",
            ),
            [KK_EVENTS], group="transformation",
        ),
    ]


def _more_russian_and_kazakh() -> list[Post]:
    """As on kisi.kz, most Russian and Kazakh events have no translation at all."""
    ru, kk = [RU_EVENTS], [KK_EVENTS]
    return [
        _post(
            2295, "ru", "vodnaya-diplomatiya-v-centralnoj-azii",
            "Круглый стол «Водная дипломатия в Центральной Азии»",
            "2024-03-05T05:00:00",
            _p(
                "5 марта в КИСИ прошёл круглый стол «Водная дипломатия в Центральной Азии: уроки тридцати лет». В обсуждении участвовали эксперты из Казахстана, Узбекистана и Кыргызстана, а также представители Международного фонда спасения Арала.",
                "Участники отметили, что межгосударственные соглашения о вододелении, заключённые в 1990-х годах, не учитывают ни роста населения, ни изменения климата. По оценкам экспертов, к 2040 году дефицит воды в бассейнах Сырдарьи и Амударьи может достигнуть пятой части нынешнего потребления.",
                "По итогам встречи участники предложили создать постоянную экспертную площадку по водной дипломатии и регулярно публиковать совместные данные о водных ресурсах региона.",
            ),
            ru, tags=["водные ресурсы"],
        ),
        _post(
            2299, "kk", "zhastar-sayasaty-zhonindegi-sarapshylyq-kezdesu",
            "Жастар саясаты жөніндегі сарапшылық кездесу өтті",
            "2024-03-20T06:00:00",
            _p(
                "20 наурызда ҚСЗИ-де мемлекеттік жастар саясатының өзекті мәселелеріне арналған сарапшылық кездесу өтті. Оған әлеуметтанушылар, жастар ұйымдарының өкілдері және мемлекеттік органдардың қызметкерлері қатысты.",
                "Сарапшылар жастардың жұмыспен қамтылуы, өңірлердегі білім беру сапасы және ауылдан қалаға көші-қон мәселелерін талқылады. Қатысушылардың пікірінше, жастар саясаты жекелеген іс-шаралардан гөрі ұзақ мерзімді бағдарламаларға сүйенуі тиіс.",
                "Кездесу қорытындысы бойынша ұсыныстар жинақталып, Ақпарат және қоғамдық даму министрлігіне жіберілетін болды.",
            ),
            kk, tags=["жастар"],
        ),
        _post(
            2310, "ru", "konferenciya-kazahstan-i-novye-transportnye-koridory",
            "Конференция «Казахстан и новые транспортные коридоры Евразии»",
            "2024-05-15T04:30:00",
            _p(
                "15 мая КИСИ провёл международную конференцию «Казахстан и новые транспортные коридоры Евразии». В работе конференции приняли участие эксперты из Китая, Турции, Азербайджана, Грузии и стран Европейского союза.",
                "Основное внимание участники уделили развитию Транскаспийского международного транспортного маршрута, модернизации портов Актау и Курык, а также цифровизации таможенных процедур. По словам спикеров, за последние два года объём грузов по маршруту вырос в несколько раз, однако пропускная способность инфраструктуры по-прежнему отстаёт от спроса.",
                "Участники конференции договорились подготовить совместный аналитический доклад о перспективах маршрута до 2030 года.",
            ),
            ru, tags=["транспорт", "Средний коридор"],
        ),
        _post(
            2326, "ru", "seminar-po-cifrovoj-ekonomike-dlya-molodyh-issledovatelej",
            "Семинар по цифровой экономике для молодых исследователей",
            "2024-07-10T06:00:00",
            _p(
                "10 июля в КИСИ состоялся семинар по цифровой экономике для молодых исследователей из ведущих университетов страны. Семинар стал частью программы института по поддержке начинающих аналитиков.",
                "Эксперты рассказали о развитии финтеха в Казахстане, регулировании цифровых активов и роли данных в государственном управлении. Особый интерес у участников вызвала дискуссия о том, как искусственный интеллект меняет рынок труда и какие навыки будут востребованы в ближайшие годы.",
                "Лучшие работы участников семинара будут опубликованы в сборнике молодых исследователей КИСИ.",
            ),
            ru, tags=["цифровизация", "молодёжь"],
        ),
        _post(
            2338, "kk", "memlekettik-tildin-qoldanys-ayasy-talqylandy",
            "Мемлекеттік тілдің қолданыс аясы талқыланды",
            "2024-10-02T05:00:00",
            _p(
                "2 қазанда ҚСЗИ-де мемлекеттік тілдің қолданыс аясын кеңейтуге арналған дөңгелек үстел өтті. Іс-шараға тіл білімі мамандары, журналистер және білім беру саласының өкілдері қатысты.",
                "Қатысушылар ғылым мен цифрлық ортада қазақ тілінде сапалы контент жасау, терминология мәселелері және мемлекеттік қызметтегі іс қағаздарын жүргізу тәжірибесі туралы пікір алмасты. Сарапшылар тілдің беделі оның күнделікті өмірде қаншалықты қажет екенімен тікелей байланысты екенін атап өтті.",
                "Дөңгелек үстел материалдары институттың «Қоғам және дәуір» журналында жарияланады.",
            ),
            kk, tags=["мемлекеттік тіл"],
        ),
        _post(
            2347, "ru", "prezentaciya-knigi-istoriya-kazahskoj-diplomatii",
            "Презентация книги «История казахской дипломатии»",
            "2024-11-27T06:00:00",
            _p(
                "27 ноября в КИСИ прошла презентация коллективной монографии «История казахской дипломатии: от ханства до независимости». Книга подготовлена учёными института совместно с историками Евразийского национального университета.",
                "Авторы прослеживают традиции посольской службы Казахского ханства, дипломатию периода присоединения к Российской империи и становление внешнеполитического ведомства независимого Казахстана. В книгу вошли ранее не публиковавшиеся архивные документы.",
                "Экземпляры монографии будут переданы в библиотеки университетов и областные архивы.",
            ),
            ru, tags=["книги", "история"], group="diplomacy-book",
        ),
        _post(
            2349, "kk", "qazaq-diplomatiyasynyn-tarihy-kitabynyn-tanystyrylymy",
            "«Қазақ дипломатиясының тарихы» кітабының таныстырылымы",
            "2024-11-28T05:00:00",
            _p(
                "27 қарашада ҚСЗИ-де «Қазақ дипломатиясының тарихы: хандықтан тәуелсіздікке дейін» ұжымдық монографиясының таныстырылымы өтті. Кітапты институт ғалымдары Еуразия ұлттық университетінің тарихшыларымен бірлесіп дайындады.",
                "Авторлар Қазақ хандығының елшілік дәстүрлерін, Ресей империясы құрамына ену кезеңіндегі дипломатияны және тәуелсіз Қазақстанның сыртқы саяси ведомствосының қалыптасуын зерделейді. Кітапқа бұрын жарияланбаған мұрағат құжаттары енгізілді.",
                "Монография университеттер кітапханалары мен облыстық мұрағаттарға жіберіледі.",
            ),
            kk, tags=["кітаптар"], group="diplomacy-book",
        ),
        _post(
            2362, "ru", "eksperty-obsudili-energeticheskij-perehod-kazahstana",
            "Эксперты обсудили энергетический переход Казахстана",
            "2025-02-05T05:30:00",
            _p(
                "5 февраля в КИСИ состоялась экспертная дискуссия, посвящённая энергетическому переходу Казахстана и достижению углеродной нейтральности к 2060 году.",
                "Участники обсудили модернизацию угольной генерации, развитие ветровой и солнечной энергетики, а также роль газа как переходного топлива. Эксперты подчеркнули, что без обновления электросетей и систем накопления энергии быстрый рост возобновляемых источников может создать риски для устойчивости энергосистемы.",
                "По итогам дискуссии подготовлена аналитическая записка с рекомендациями для профильных государственных органов.",
            ),
            ru, tags=["энергетика"],
        ),
        _post(
            2383, "kk", "qytay-men-qazaqstan-sarapshylary-orta-dalizdi-talqylady",
            "Қытай мен Қазақстан сарапшылары Орта дәлізді талқылады",
            "2025-05-29T04:00:00",
            _p(
                "28 мамырда ҚСЗИ мен Шанхай халықаралық зерттеулер институты Орта дәліз бойындағы көліктік байланысты дамытуға арналған бірлескен конференция өткізді.",
                "Қытай тарапы 2030 жылға қарай Қазақстан мен Каспий теңізі арқылы Қытай мен Еуропа арасындағы контейнерлік тасымал үш есеге өсуі мүмкін екенін айтты. Қазақстандық сарапшылар Ақтау және Құрық порттарының өткізу қабілетіне, Каспий флотындағы кемелердің тапшылығына және кеден рәсімдерінің цифрландырылмағанына назар аударды.",
                "Конференция соңында дәліздің экономикалық әсерін бірлесіп зерттеу туралы меморандумға қол қойылды.",
            ),
            kk, tags=["Орта дәліз"], group="middle-corridor",
        ),
        _post(
            2386, "ru", "konferenciya-po-prodovolstvennoj-bezopasnosti",
            "Международная конференция по продовольственной безопасности",
            "2025-06-04T05:00:00",
            _p(
                "4 июня в Астане прошла международная конференция «Продовольственная безопасность Центральной Азии в условиях изменения климата», организованная КИСИ.",
                "Эксперты обсудили засухи последних лет, рост цен на удобрения и необходимость диверсификации экспорта зерна. Отдельная сессия была посвящена внедрению водосберегающих технологий в сельском хозяйстве и поддержке фермерских хозяйств на юге страны.",
                "Участники договорились о подготовке региональной дорожной карты по продовольственной безопасности.",
            ),
            ru, tags=["продовольственная безопасность"],
        ),
        _post(
            2394, "kk", "memlekettik-qyzmetshilerge-arnalgan-seminar",
            "Мемлекеттік қызметшілерге арналған сараптамалық семинар",
            "2025-07-23T05:00:00",
            _p(
                "23 шілдеде ҚСЗИ орталық және жергілікті мемлекеттік органдардың қызметкерлеріне арналған сараптамалық семинар өткізді. Семинардың тақырыбы — саяси шешімдерді талдау мен болжаудың заманауи әдістері.",
                "Институт сарапшылары сценарийлік талдау, деректерге негізделген шешім қабылдау және халықаралық тәжірибені бейімдеу жолдары туралы айтып берді. Қатысушылар өз өңірлеріндегі нақты мысалдар негізінде практикалық тапсырмалар орындады.",
                "Семинар соңында қатысушыларға сертификаттар табысталды.",
            ),
            kk, tags=["мемлекеттік басқару"],
        ),
        _post(
            2402, "ru", "ekspertnaya-sessiya-po-razvitiyu-kaspijskogo-regiona",
            "Экспертная сессия по развитию Каспийского региона",
            "2025-09-10T06:00:00",
            _p(
                "10 сентября в Актау прошла выездная экспертная сессия КИСИ, посвящённая социально-экономическому развитию Каспийского региона.",
                "Участники обсудили обмеление Каспийского моря и его последствия для портов и рыбного хозяйства, перспективы нефтехимии и туризма, а также экологические риски морской добычи. По мнению экспертов, обмеление требует срочного международного мониторинга и согласованных действий прикаспийских государств.",
                "Материалы сессии будут направлены в акимат Мангистауской области и профильные министерства.",
            ),
            ru, tags=["Каспий", "экология"],
        ),
        _post(
            2408, "kk", "halyqaralyq-gylymi-konferenciya-otti",
            "Халықаралық ғылыми-тәжірибелік конференция өтті",
            "2025-10-08T04:00:00",
            _p(
                "8 қазанда ҚСЗИ «Орталық Азия: өңірлік ынтымақтастықтың жаңа кезеңі» атты халықаралық ғылыми-тәжірибелік конференция өткізді. Конференцияға Өзбекстан, Қырғызстан, Тәжікстан және Түрікменстанның сарапшылары қатысты.",
                "Баяндамашылар өңір елдері арасындағы сауда-экономикалық байланыстарды, су-энергетикалық ынтымақтастықты және шекара маңы аумақтарын дамыту мәселелерін қозғады. Сарапшылар Орталық Азия мемлекеттері басшыларының консультативтік кездесулері өңірлік интеграцияға жаңа серпін бергенін атап өтті.",
                "Конференция материалдары бойынша ғылыми жинақ шығарылады.",
            ),
            kk, tags=["Орталық Азия"],
        ),
        _post(
            2415, "ru", "kruglyj-stol-kazahstan-i-evropejskij-soyuz",
            "Круглый стол «Казахстан и Европейский союз: новые горизонты партнёрства»",
            "2025-11-05T06:00:00",
            _p(
                "5 ноября КИСИ провёл круглый стол «Казахстан и Европейский союз: новые горизонты партнёрства» с участием дипломатов и экспертов из стран ЕС.",
                "Стороны обсудили реализацию Соглашения о расширенном партнёрстве и сотрудничестве, сотрудничество в области критически важного сырья и зелёного водорода, а также упрощение визового режима. Европейские участники отметили, что Казахстан остаётся крупнейшим торговым партнёром ЕС в Центральной Азии.",
                "По итогам встречи принято решение проводить подобные консультации ежегодно.",
            ),
            ru, tags=["Европа"],
        ),
        _post(
            2437, "kk", "syrtqy-sayasat-basymdyqtary-talqylandy",
            "Сыртқы саясаттың жаңа жылдағы басымдықтары талқыланды",
            "2026-01-14T05:00:00",
            _p(
                "14 қаңтарда ҚСЗИ-де Қазақстанның 2026 жылғы сыртқы саяси басымдықтарына арналған сарапшылық пікірталас өтті.",
                "Сарапшылар көпвекторлы саясатты жалғастыру, Орталық Азиядағы өңірлік ынтымақтастықты тереңдету, көлік-логистикалық әлеуетті дамыту және экономикалық дипломатияның рөлін арттыру мәселелерін талқылады. Әлемдегі геосаяси шиеленіс жағдайында ұлттық мүддені қорғаудың прагматикалық тәсілдері ерекше назарда болды.",
                "Пікірталас қорытындысы бойынша талдамалық баяндама дайындалады.",
            ),
            kk, tags=["сыртқы саясат"],
        ),
    ]


def _russian_and_kazakh_other() -> list[Post]:
    """Posts of the other categories, so an events crawl has things to leave out in every language."""
    return [
        _post(
            2406, "ru", "direktor-kisi-vstretilsya-s-delegaciej-instituta-mirovoj-ekonomiki",
            "Директор КИСИ встретился с делегацией Института мировой экономики",
            "2025-10-01T05:00:00",
            _p(
                "1 октября директор КИСИ провёл встречу с делегацией Института мировой экономики и международных отношений.",
                "Стороны обсудили ход совместных исследований, обмен стажёрами и подготовку общей конференции по проблемам региональной безопасности. Договорено расширить сотрудничество в области прогнозирования и сценарного анализа.",
            ),
            ["новости"],
        ),
        _post(
            2411, "kk", "qszi-zhana-basylym-shygardy",
            "ҚСЗИ «Қазақстан-Спектр» журналының жаңа нөмірін шығарды",
            "2025-10-20T04:00:00",
            _p(
                "ҚСЗИ «Қазақстан-Спектр» ғылыми журналының кезекті нөмірі жарық көрді. Нөмірде халықаралық қатынастар, экономика және қоғамдық-саяси үдерістер туралы мақалалар жарияланды.",
                "Журналдың электрондық нұсқасы институттың сайтында қолжетімді.",
            ),
            ["zhanalyqtar"],
        ),
        _post(
            2433, "ru", "atomnaya-energetika-v-kazahstane-chto-oznachayut-itogi-referenduma",
            "Атомная энергетика в Казахстане: что означают итоги референдума",
            "2025-12-21T05:00:00",
            _p(
                "В октябре 2024 года в Казахстане состоялся общенациональный референдум о строительстве первой атомной электростанции. Более семидесяти процентов участников поддержали проект, что открыло путь к выбору технологического партнёра и подготовке площадки у озера Балхаш.",
                "Решение отражает растущий дефицит базовой генерации. Большинство тепловых электростанций страны построены в советский период и сильно изношены, а потребление электроэнергии растёт на три-четыре процента в год.",
                "По мнению автора, атомную энергетику следует рассматривать не как альтернативу возобновляемым источникам, а как часть сбалансированного энергобаланса.",
            ),
            ["аналитика"], author="Dana Akhmetova", tags=["энергетика"], group="nuclear-analysis",
        ),
    ]


def _pages() -> list[Post]:
    about_en = _p(
        "The Kazakhstan Institute for Strategic Studies under the President of the Republic of Kazakhstan (KazISS) was established by the Decree of the President on 16 June 1993.",
        "The institute conducts research on international relations, regional security, the economy and domestic social and political processes, and prepares analytical materials for the Administration of the President and state bodies.",
        "KazISS publishes the journals &#8220;Kazakhstan-Spectrum&#8221; and &#8220;Central Asia&#8217;s Affairs&#8221; and regularly hosts conferences, round tables and expert dialogues.",
    )
    contacts_en = _p(
        "Address: 4 Beibitshilik Street, Astana, 010000, Republic of Kazakhstan.",
        "Phone: +7 (7172) 75-20-20. E-mail: office@kisi.kz.",
    )
    about_ru = _p(
        "Казахстанский институт стратегических исследований при Президенте Республики Казахстан (КИСИ) создан Указом Президента 16 июня 1993 года.",
        "Институт проводит исследования в области международных отношений, региональной безопасности, экономики и внутренних общественно-политических процессов.",
    )
    contacts_ru = _p(
        "Адрес: 010000, Республика Казахстан, г. Астана, ул. Бейбитшилик, 4.",
        "Телефон: +7 (7172) 75-20-20. Электронная почта: office@kisi.kz.",
    )
    about_kk = _p(
        "Қазақстан Республикасының Президенті жанындағы Қазақстан стратегиялық зерттеулер институты (ҚСЗИ) 1993 жылғы 16 маусымда Президент Жарлығымен құрылды.",
        "Институт халықаралық қатынастар, өңірлік қауіпсіздік, экономика және ішкі қоғамдық-саяси үдерістер саласында зерттеулер жүргізеді.",
    )
    # Polylang's free plugin keeps page slugs unique across languages: the English "about" page
    # became about-2 (wp_unique_post_slug()), as it does on sites whose editors kept the name.
    return [
        _post(14, "ru", "about", "Об институте", "2019-02-11T04:00:00", about_ru, [],
              group="page-about", post_type="page"),
        _post(16, "ru", "contacts", "Контакты", "2019-02-11T04:10:00", contacts_ru, [],
              modified="2024-01-15T03:00:00", group="page-contacts", post_type="page"),
        _post(2105, "en", "about-2", "About the Institute", "2023-05-10T04:00:00", about_en, [],
              group="page-about", post_type="page"),
        _post(2107, "en", "contacts-2", "Contacts", "2023-05-10T04:20:00", contacts_en, [],
              group="page-contacts", post_type="page"),
        _post(2109, "kk", "institut-turaly", "Институт туралы", "2023-05-12T05:00:00", about_kk, [],
              group="page-about", post_type="page"),
    ]


def default_categories() -> list[Category]:
    """Each language's terms are separate (own id, own slug), linked as translations."""
    return [
        Category(id=1, lang="ru", slug="без-рубрики", name="Без рубрики", translation_group="uncategorized"),
        Category(id=3, lang="ru", slug=RU_EVENTS, name="События", translation_group="events"),
        Category(id=4, lang="ru", slug="новости", name="Новости", translation_group="news"),
        Category(id=6, lang="en", slug="uncategorized", name="Uncategorized", translation_group="uncategorized"),
        Category(id=10, lang="kk", slug="uncategorized-kz", name="Санатсыз", translation_group="uncategorized"),
        Category(id=12, lang="en", slug="events", name="Events", translation_group="events"),
        Category(id=14, lang="en", slug="news", name="News", translation_group="news"),
        Category(id=16, lang="en", slug="analytics", name="Analytics", translation_group="analytics"),
        Category(id=18, lang="ru", slug="аналитика", name="Аналитика", translation_group="analytics"),
        Category(id=27, lang="kk", slug=KK_EVENTS, name="Іс-шаралар", translation_group="events"),
        Category(id=29, lang="kk", slug="zhanalyqtar", name="Жаңалықтар", translation_group="news"),
        Category(id=31, lang="kk", slug="saraptama", name="Сараптама", translation_group="analytics"),
    ]


# -- the media library ------------------------------------------------------------------------
RU_REPORT, KK_REPORT, PHOTO_HALL, PHOTO_PANEL, ENCRYPTED_REPORT, DAMAGED_REPORT = 3001, 3002, 3003, 3004, 3005, 3006

_RU_REPORT_TEXT = [
    "Настоящий доклад подготовлен по итогам экспертного круглого стола, состоявшегося 12 марта 2025 года в Казахстанском институте стратегических исследований при Президенте Республики Казахстан.",
    "Политическая трансформация в Казахстане рассматривается в докладе как долгосрочный процесс перехода от суперпрезидентской модели к президентской республике с влиятельным парламентом и подотчётным правительством.",
    "Конституционная реформа 2022 года изменила порядок формирования Мажилиса: половина депутатов избирается по партийным спискам, половина — в одномандатных округах. Упрощена регистрация политических партий, учреждён Конституционный суд.",
    "Эксперты отмечают, что новые институты требуют времени для укрепления. Ключевыми условиями успеха названы политическое просвещение граждан, развитие местного самоуправления и расширение участия молодёжи в принятии решений.",
    "В докладе сформулированы рекомендации: создать постоянную парламентскую исследовательскую службу, публиковать анализ регуляторного воздействия законопроектов и проводить регулярный мониторинг деятельности депутатов.",
]
_KK_REPORT_TEXT = [
    "Бұл баяндама 2025 жылғы 12 наурызда Қазақстан Республикасының Президенті жанындағы Қазақстан стратегиялық зерттеулер институтында өткен сарапшылық дөңгелек үстелдің қорытындысы бойынша әзірленді.",
    "Баяндамада Қазақстандағы саяси трансформация суперпрезиденттік модельден ықпалды парламенті және есеп беретін үкіметі бар президенттік республикаға өтудің ұзақ мерзімді үдерісі ретінде қарастырылады.",
    "2022 жылғы конституциялық реформа Мәжілісті қалыптастыру тәртібін өзгертті: депутаттардың жартысы партиялық тізімдер бойынша, жартысы бір мандатты округтерде сайланады. Саяси партияларды тіркеу жеңілдетілді, Конституциялық сот құрылды.",
    "Сарапшылардың пікірінше, жаңа институттарды нығайту үшін уақыт қажет. Табыстың басты шарттары — азаматтардың саяси сауаттылығы, жергілікті өзін-өзі басқаруды дамыту және жастардың шешім қабылдауға қатысуы.",
    "Ұсыныстар: тұрақты парламенттік зерттеу қызметін құру, заң жобаларының реттеушілік әсерін талдауды жариялау және депутаттар қызметіне тұрақты мониторинг жүргізу.",
]


def default_media() -> list[Media]:
    """The uploads the seeded posts link and embed (media.py says how WordPress serves them)."""
    return [
        Media(RU_REPORT, "2025/03/doklad-politicheskaya-transformaciya.pdf", "application/pdf",
              title="Доклад «Политическая трансформация в Казахстане»", modified_gmt="2025-03-12T06:50:00",
              pdf={"title": "Политическая трансформация в Казахстане", "paragraphs": _RU_REPORT_TEXT,
                   "language": "ru-RU", "author": "КИСИ"}),
        Media(KK_REPORT, "2025/03/bayandama-sayasi-transformaciya.pdf", "application/pdf",
              title="Баяндама «Қазақстандағы саяси трансформация»", modified_gmt="2025-03-13T03:50:00",
              pdf={"title": "Қазақстандағы саяси трансформация", "paragraphs": _KK_REPORT_TEXT,
                   "language": "kk-KZ", "author": "ҚСЗИ"}),
        Media(PHOTO_HALL, "2025/03/kruglyj-stol-zal.png", "image/png", title="kruglyj-stol-zal",
              alt="Участники круглого стола в зале КИСИ", modified_gmt="2025-03-12T07:00:00",
              image={"width": 1200, "height": 800, "seed": 1}),
        Media(PHOTO_PANEL, "2025/03/kruglyj-stol-spikery.png", "image/png", title="kruglyj-stol-spikery",
              alt="Спикеры круглого стола", modified_gmt="2025-03-12T07:01:00",
              image={"width": 1600, "height": 1066, "seed": 2}),
        Media(ENCRYPTED_REPORT, "2025/11/demograficheskie-tendencii-2050.pdf", "application/pdf",
              title="Демографические тенденции в Казахстане до 2050 года", modified_gmt="2025-11-26T06:00:00",
              pdf={"title": "Демографические тенденции в Казахстане", "language": "ru-RU", "encrypted": True,
                   "paragraphs": ["Полная версия доклада доступна по запросу."]}),
        Media(DAMAGED_REPORT, "2024/11/parliamentary-reform-expert-session.pdf", "application/pdf",
              title="Parliamentary reform: the expert session", modified_gmt="2024-11-13T05:50:00",
              pdf={"title": "The results of the parliamentary reform", "language": "en-US", "broken": True,
                   "paragraphs": ["An expert session on the results of the parliamentary reform was held at KazISS."]}),
    ]


def _attach_media(posts: list[Post], library: list[Media]) -> None:
    """Link and embed the uploads the way editors do in the block editor (and once, in an
    older post, with a plain link in the text: "the full version is here")."""
    media = {m.id: m for m in library}
    extra = {
        2369: [image_block(media[PHOTO_HALL]), image_block(media[PHOTO_PANEL], link_to_file=True),
               file_block(media[RU_REPORT], "Доклад «Политическая трансформация в Казахстане» (PDF)"),
               '<p>Материалы партнёров: <a href="http://127.0.0.2/wp-content/uploads/2025/03/partner-report.pdf">'
               "доклад партнёров (PDF)</a>.</p>"],
        2368: [image_block(media[PHOTO_HALL], alt="Participants of the round table at KazISS")],
        2374: [file_block(media[KK_REPORT], "Баяндама «Қазақстандағы саяси трансформация» (PDF)")],
        2423: [f'<p>Полная версия доклада: <a href="{media[ENCRYPTED_REPORT].path}">здесь</a>.</p>'],
        2342: [f'<p>The full version is <a href="{media[DAMAGED_REPORT].path}">here</a>.</p>'],
    }
    for post in posts:
        if post.id in extra:
            post.content_html = post.content_html + "\n" + "\n".join(extra[post.id])


def default_state() -> SiteState:
    """A fresh copy of the seeded site (Polylang, Russian at the root); callers may mutate it freely."""
    posts = (
        _english_events() + _english_other() + _russian_and_kazakh() + _more_russian_and_kazakh()
        + _russian_and_kazakh_other() + _pages()
    )
    library = default_media()
    _attach_media(posts, library)
    return SiteState(
        posts=sorted(posts, key=lambda p: p.id),
        categories=default_categories(),
        languages=default_languages(),
        default_language="ru",
        media=library,
    )


def wpml_state() -> SiteState:
    """The same content as a WPML site: the language in `?lang=`, WPML's own language codes
    (`kk` in URLs too), its footer switcher and hreflang, its REST language filter, and a Yoast
    sitemap (WPML's own handling of core sitemaps is not public)."""
    state = default_state()
    state.languages = [
        Language(code="ru", slug="ru", locale="ru_RU", name="Русский"),
        Language(code="en", slug="en", locale="en_US", name="English"),
        Language(code="kk", slug="kk", locale="kk", name="Қазақ"),
    ]
    state.options.plugin = "wpml"
    state.options.link_model = "query"
    state.options.sitemap_plugin = "yoast"
    # WPML lets each language have the same slug; these keep Polylang's suffixes, as migrated sites do.
    return state
