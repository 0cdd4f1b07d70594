package screenpage

import (
	"strings"
	"testing"
)

const notice200 = "为进一步做好辖区防汛工作，保障居民生命财产安全，街道办事处定于本月十五日至二十日开展地下车库、" +
	"低洼院落及老旧小区排水设施专项检查。检查期间，请各位居民配合工作人员入户查看阳台、" +
	"厨房及卫生间排水情况，及时清理堆放在楼道和地下空间的杂物。如发现积水、渗漏或电路隐患，" +
	"请立即拨打社区服务热线 12345 或到社区服务中心一楼窗口登记，我们将在二十四小时内安排专人上门处理。"

func TestParaLines(t *testing.T) {
	for _, tc := range []struct {
		text  string
		width float64
		want  int
	}{
		{"", 10, 1},
		{"一二三四五六七八九十", 10, 1},
		{"一二三四五六七八九十一", 10, 2},
		{strings.Repeat("字", 45), 22, 3},
		// Latin words do not break: 0.55 em a letter, 0.25 em a space.
		{"hello world", 4, 2},
		{"hello world", 20, 1},
		// A number stays with nothing split inside it.
		{"热线 12345678", 5, 2},
	} {
		if got := paraLines(tc.text, tc.width); got != tc.want {
			t.Errorf("paraLines(%q, %g) = %d, want %d", tc.text, tc.width, got, tc.want)
		}
	}
}

func TestEstimate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		text   Text
		screen Screen
		want   string
		pages  int // 0: do not check
	}{
		{"short landscape", Text{Title: "社区卫生服务站周六照常开放", Body: "开放时间：上午 8:00 至 11:30。"}, Landscape, FitOK, 1},
		{"short portrait", Text{Title: "社区卫生服务站周六照常开放", Body: "开放时间：上午 8:00 至 11:30。"}, Portrait, FitOK, 1},
		{"200-character notice shrinks", Text{Title: "关于开展汛期排水设施专项检查的通知", Body: notice200}, Landscape, FitShrunk, 1},
		{"400 characters page in landscape", Text{Title: "关于开展汛期排水设施专项检查的通知", Body: notice200 + "\n" + notice200}, Landscape, FitPaged, 2},
		{"400 characters fit a portrait panel", Text{Title: "关于开展汛期排水设施专项检查的通知", Body: notice200 + "\n" + notice200}, Portrait, FitShrunk, 1},
		{"800 characters page in portrait", Text{Title: "每月一法", Body: strings.Repeat(notice200, 4)}, Portrait, FitPaged, 2},
		{"a 200-character title is cut", Text{Title: strings.Repeat("关于进一步加强辖区居民小区消防安全管理的通知", 9)}, Landscape, FitCut, 0},
		{"header and ticker leave less room", Text{Title: "关于开展汛期排水设施专项检查的通知", Body: notice200 + "\n" + notice200},
			Screen{Name: "portrait", Width: 1080, Height: 1920, Layout: "header_ticker"}, FitShrunk, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Estimate(tc.text, tc.screen)
			if f.Status != tc.want || (tc.pages > 0 && f.Pages != tc.pages) {
				t.Errorf("got %s in %d pages (%d title + %d body lines, title %.0fpx), want %s in %d", f.Status, f.Pages, f.TitleLines, f.BodyLines, f.TitlePX, tc.want, tc.pages)
			}
			// The floor holds whatever the text: a title never below 4 %
			// of the screen height, a body never below 3.2u.
			if f.TitlePX < TitleFloor*float64(tc.screen.Height)-0.1 {
				t.Errorf("title %.1fpx on a %dpx tall screen, below the %.0f%% floor", f.TitlePX, tc.screen.Height, TitleFloor*100)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	_, w := Warnings(Text{Title: "社区卫生服务站周六照常开放", Body: "请携带医保卡。", DurationS: 10}, "")
	if len(w) != 0 {
		t.Errorf("short item: warnings %+v, want none", w)
	}

	_, w = Warnings(Text{Title: strings.Repeat("关于进一步加强辖区居民小区消防安全管理的通知", 9), Body: "请注意。", DurationS: 10}, "full")
	if !hasWarning(w, WarnTitleBelowFloor, "landscape") || !hasWarning(w, WarnTitleBelowFloor, "portrait") {
		t.Errorf("200-character title: warnings %+v, want title_below_floor on both panels", w)
	}
	for _, x := range w {
		if x.Field != "title" || !strings.Contains(x.Message, "estimate") {
			t.Errorf("warning %+v: want field title and a message that says it is an estimate", x)
		}
	}

	fits, w := Warnings(Text{Title: "每月一法", Body: strings.Repeat(notice200, 4), DurationS: 8}, "full")
	if !hasWarning(w, WarnBodyPaged, "landscape") || !hasWarning(w, WarnPagesTooFast, "landscape") {
		t.Errorf("800 characters in 8 s: warnings %+v, want body_paged and body_pages_fast", w)
	}
	if len(fits) != 2 || fits[0].Name != "landscape" || fits[1].Name != "portrait" || fits[0].Pages < 2 {
		t.Errorf("fits %+v, want landscape then portrait, landscape paged", fits)
	}
}

func hasWarning(ws []Warning, code, orientation string) bool {
	for _, w := range ws {
		if w.Code == code && w.Orientation == orientation {
			return true
		}
	}
	return false
}
