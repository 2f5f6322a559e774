"""Category names as people say them: genre names and their plurals ("comedies", "thrillers"), common
synonyms ("scary" -> Horror, "romcom" -> Romance and Comedy), description attributes ("full-bodied" ->
body: Full-bodied, "French" -> country: France) and Chinese names ("恐怖" -> horror), mapped onto the
categories a dataset has (engine.explore.categories)."""
from __future__ import annotations

import re

from engine.explore.categories import category_values
from engine.explore.similarity import _cached
from engine.language.titles import normalise

SYNONYMS = {   # said -> a category name the dataset may have (several: all of them)
    "scary": ("horror",), "spooky": ("horror",), "creepy": ("horror",), "gore": ("horror",), "slasher": ("horror",),
    "funny": ("comedy",), "comedic": ("comedy",), "romantic": ("romance",), "romcom": ("romance", "comedy"),
    "rom com": ("romance", "comedy"), "love story": ("romance",), "love stories": ("romance",),
    "animated": ("animation",), "cartoon": ("animation",), "cartoons": ("animation",), "anime": ("animation",),
    "science fiction": ("sci fi",), "scifi": ("sci fi",), "sf": ("sci fi",), "space": ("sci fi",),
    "kids": ("family",), "children": ("family",), "childrens": ("family",), "kid": ("family",),
    "historical": ("history",), "biopic": ("biography",), "biopics": ("biography",), "docs": ("documentary",),
    "sport": ("sport",), "sports": ("sport",), "music": ("music", "musical"), "noir": ("film noir",),
    "violent": ("action", "crime", "war"), "violence": ("action", "crime", "war"), "gory": ("horror",),
    "bloody": ("horror",), "cowboy": ("western",), "cowboys": ("western",), "criminal": ("crime",), "gangster": ("crime",),
    "mysteries": ("mystery",), "whodunit": ("mystery",), "superhero": ("action",), "fights": ("action",),
    "bubbly": ("sparkling",), "fizzy": ("sparkling",), "champagne": ("sparkling",), "rose": ("rose",),
    "pink": ("rose",), "sweet": ("dessert",), "port": ("dessert port",), "reds": ("red",), "whites": ("white",),
    "full body": ("full bodied",), "heavy": ("full bodied",), "bold": ("full bodied",),
    "light body": ("light bodied",), "light bodied": ("light bodied",), "medium body": ("medium bodied",),
    "very full bodied": ("very full bodied",),
    "french": ("france",), "italian": ("italy",), "spanish": ("spain",), "portuguese": ("portugal",),
    "german": ("germany",), "brazilian": ("brazil",), "argentinian": ("argentina",), "argentine": ("argentina",),
    "chilean": ("chile",), "american": ("united states",), "californian": ("united states",),
    "australian": ("australia",), "south african": ("south africa",), "austrian": ("austria",),
    "greek": ("greece",), "hungarian": ("hungary",), "new zealand": ("new zealand",), "uruguayan": ("uruguay",),
    "acidic": ("high acidity",), "crisp": ("high acidity",), "tart": ("high acidity",),
}
CHINESE = {"恐怖": "horror", "喜剧": "comedy", "动画": "animation", "爱情": "romance", "动作": "action",
           "科幻": "sci fi", "战争": "war", "惊悚": "thriller", "剧情": "drama", "纪录": "documentary",
           "犯罪": "crime", "悬疑": "mystery", "奇幻": "fantasy", "冒险": "adventure", "家庭": "family",
           "音乐": "musical", "歌舞": "musical", "西部": "western", "运动": "sport", "体育": "sport",
           "红葡萄酒": "red", "红酒": "red", "白葡萄酒": "white", "白酒": "white", "起泡酒": "sparkling",
           "气泡酒": "sparkling", "桃红": "rose", "甜酒": "dessert", "法国": "france", "意大利": "italy",
           "西班牙": "spain", "葡萄牙": "portugal", "德国": "germany", "智利": "chile", "阿根廷": "argentina",
           "巴西": "brazil", "美国": "united states", "澳大利亚": "australia", "酒体饱满": "full bodied"}
# Words around a category name that do not change it ("white wines", "horror films", "any westerns").
_AROUND = set("""a an the any more some all of kind kinds sort sorts type types genre genres style films film movies
movie flicks flick wines wine bottles bottle ones one stuff things thing please stories story shows show
grape grapes varietal varietals country region from""".split())
_CN_AROUND = re.compile(r"^(?:的|任何|更多)+|(?:片子|片|电影|影片|的|类|类型|酒|葡萄酒|作品)+$")
_LABEL_ORDER = ("genre", "type", "body", "acidity", "country", "grapes")


class CategoryNames:
    """A dataset's nameable categories by normalised name (plurals and synonyms included)."""

    def __init__(self, dataset):
        values = category_values(dataset)
        self.genres = values.get("genre", [])
        self.by_name: dict[str, tuple[str, ...]] = {}
        for label in _LABEL_ORDER:            # a genre's name wins over an attribute with the same name
            for v in values.get(label, ()):
                said = f"{v} acidity" if label == "acidity" else v     # "high acidity", never "high" alone
                for name in _forms(normalise(said)):
                    self.by_name.setdefault(name, (f"{label}={v}",))
        for said, means in SYNONYMS.items():
            cats = tuple(c for m in means for c in self.by_name.get(m, ()))
            if cats and said not in self.by_name:
                self.by_name[said] = cats
        for cn, en in CHINESE.items():
            if en in self.by_name:
                self.by_name[cn] = self.by_name[en]
        self.keys = frozenset(self.by_name)
        self._longest = max((len(k.split()) for k in self.by_name), default=1)
        self._vectors = None

    def exact(self, phrase: str) -> tuple[str, ...]:
        """The category a whole phrase names ("white wines", "any horror films", "恐怖片"), else ()."""
        for p in (phrase.strip(), _CN_AROUND.sub("", phrase.strip())):
            if p in self.by_name:
                return self.by_name[p]
        words = normalise(p).split()
        while words and words[0] in _AROUND:
            words = words[1:]
        while words and words[-1] in _AROUND:
            words = words[:-1]
        return self.by_name.get(" ".join(words), ())

    def find(self, phrase: str) -> tuple[str, ...]:
        """Every category named inside a phrase, longest names first ("scary horror stuff" -> Horror)."""
        out: list[str] = []
        for cn in CHINESE:
            if cn in phrase and cn in self.by_name:
                out += [c for c in self.by_name[cn] if c not in out]
        words = normalise(phrase).split()
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                cats = self.by_name.get(" ".join(words[i:i + n]))
                if cats and not (n == 1 and words[i] in _AROUND):
                    out += [c for c in cats if c not in out]
                    i += n - 1
                    break
            i += 1
        return tuple(out)

    def genre_vectors(self, encoder):
        if self._vectors is None:
            self._vectors = encoder.encode(self.genres)
        return self._vectors


def _forms(name: str) -> list[str]:
    """'comedy' -> comedy, comedies; 'sci fi' -> sci fi, scifi, sci fis; 'full bodied' -> full bodied, fullbodied."""
    if not name:
        return []
    forms = [name, name.replace(" ", "")]
    forms += [f[:-1] + "ies" if f.endswith("y") else f + ("es" if f.endswith(("s", "x", "ch", "sh")) else "s")
              for f in list(forms)]
    return list(dict.fromkeys(forms))


def category_names(dataset) -> CategoryNames:
    return _cached(dataset, "category_names", lambda: CategoryNames(dataset))
