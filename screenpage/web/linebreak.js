// Chinese line breaking for the kiosk page (app.js calls
// window.kioskWrapText for every title and body it sets).
//
// A line may break between any two Chinese characters, which splits
// "3 号楼", "12 月 5 日" or "法律援助工作站" badly on a narrow screen.
// kioskWrapText sets text as runs that must stay whole, each a nowrap span
// (app.css .nb), built with textContent: numbers with their units, the
// words Intl.Segmenter finds, and short names ending in a place word
// (工作站, 服务中心, 居委会 ...), merged from the words before them.
// Runs stay short (MAX_RUN characters), so a line can always break.
'use strict';

(function () {
  const MAX_RUN = 10;
  const UNIT = '(?:号楼|号院|号|楼|层|室|栋|幢|单元|门|期|排|年|月|日|时|点|分钟|分|秒|元|角|岁|天|周|个|次|名|位|人|户|间|套|公里|千米|平方米|米|小时|%|％)';
  const NUM = '(?:第\\s?)?[0-9０-９]+(?:[.:：][0-9０-９]+)*';
  const NUM_RUN = new RegExp(NUM + '\\s?' + UNIT + '(?:\\s?' + NUM + '\\s?' + UNIT + ')*', 'g');
  const PLACE = /^(?:工作站|服务站|服务中心|中心|办事处|居委会|委员会|派出所|医院|卫生院|卫生站|诊所|学校|小学|中学|幼儿园|图书馆|活动室|服务点|服务厅|站|所|室|馆|院|处|厅|街道|社区|小区|广场|公园|大厦|花园|公寓)$/;
  const HAN = /^[\u3400-\u9fff]+$/;
  let segmenter = null;
  try { segmenter = new Intl.Segmenter('zh', { granularity: 'word' }); } catch (e) { segmenter = null; }

  // words splits plain text (no number runs) into [text, keepWhole] parts.
  function words(text) {
    if (!segmenter) return [[text, false]];
    const out = [];
    const segs = Array.from(segmenter.segment(text));
    for (let i = 0; i < segs.length; i++) {
      const sg = segs[i].segment;
      if (segs[i].isWordLike && HAN.test(sg) && PLACE.test(sg)) {
        // A place word takes up to three Chinese words before it, while
        // the whole stays short (8 characters): 法律/援助/工作站,
        // 社区/卫生/服务/站.
        let start = out.length;
        let len = sg.length;
        while (start > 0 && out.length - start < 3 && out[start - 1][2] &&
               len + out[start - 1][0].length <= 8) {
          start--;
          len += out[start][0].length;
        }
        if (start < out.length) {
          const merged = out.splice(start).map(function (p) { return p[0]; }).join('') + sg;
          // Still a Chinese word: a later place word may take it in
          // (社区 + 服务中心), within the same length.
          out.push([merged, true, true]);
          continue;
        }
      }
      const han = segs[i].isWordLike && HAN.test(sg);
      out.push([sg, segs[i].isWordLike && sg.length > 1 && sg.length <= MAX_RUN, han]);
    }
    return out;
  }

  window.kioskWrapText = function (node, text) {
    node.replaceChildren();
    text = String(text || '');
    const parts = [];
    let last = 0;
    NUM_RUN.lastIndex = 0;
    let m;
    while ((m = NUM_RUN.exec(text)) !== null) {
      if (m.index > last) words(text.slice(last, m.index)).forEach(function (p) { parts.push(p); });
      parts.push([m[0], m[0].length <= MAX_RUN * 2]);
      last = m.index + m[0].length;
    }
    if (last < text.length) words(text.slice(last)).forEach(function (p) { parts.push(p); });
    let plain = '';
    parts.forEach(function (p) {
      if (!p[1]) { plain += p[0]; return; }
      if (plain) { node.appendChild(document.createTextNode(plain)); plain = ''; }
      const span = document.createElement('span');
      span.className = 'nb';
      span.textContent = p[0];
      node.appendChild(span);
    });
    if (plain) node.appendChild(document.createTextNode(plain));
    return node;
  };
})();
