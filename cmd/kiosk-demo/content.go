package main

// Demo content for a fictional compound, 幸福里小区 on 幸福街道. Every line was
// written for this project. The rules a real editor would follow apply here
// too, and content_test.go holds the demo to them: titles short enough to
// read from three metres, bodies of one to three short sentences, 8–15 s on
// screen.

import "kiosk/playlists"

// demoItem is one item to create. Key names it inside the demo (playlists
// refer to items by key, since the server assigns the ids); Image names an
// illustration from images.go, or is empty for a text-only item.
type demoItem struct {
	Key       string
	Kind      playlists.Kind
	Title     string
	Body      string
	Image     string
	DurationS int
}

var demoItems = []demoItem{
	// 公益广告 (public-service ads)
	{
		Key: "fraud-rebate", Kind: playlists.KindPSA, Image: "shield", DurationS: 12,
		Title: "刷单返利都是诈骗",
		Body:  "“先垫钱、再返利”的兼职全是圈套，垫进去的钱拿不回来。拿不准时，拨打反诈专线 96110。",
	},
	{
		Key: "fraud-code", Kind: playlists.KindPSA, DurationS: 10,
		Title: "验证码不给任何人",
		Body:  "短信验证码就是你账户的钥匙。自称客服、民警或熟人来要验证码的，一律挂断。",
	},
	{
		Key: "fraud-safe-account", Kind: playlists.KindPSA, DurationS: 10,
		Title: "没有“安全账户”",
		Body:  "公安、检察院、法院不会打电话让你转账，更没有所谓“安全账户”。接到这类电话，直接挂断。",
	},
	{
		Key: "zebra", Kind: playlists.KindPSA, Image: "traffic-light", DurationS: 10,
		Title: "礼让斑马线",
		Body:  "机动车经过人行横道要减速，有行人通过必须停车让行。行人也请走斑马线，不闯红灯。",
	},
	{
		Key: "helmet", Kind: playlists.KindPSA, Image: "helmet", DurationS: 10,
		Title: "骑电动自行车 请戴头盔",
		Body:  "一盔一带，安全常在。骑车不逆行、不载人超员，也不要加装遮阳棚。",
	},
	{
		Key: "school-road", Kind: playlists.KindPSA, DurationS: 8,
		Title: "上学路上 慢一点",
		Body:  "学校门口请减速慢行。接送孩子即停即走，不在路口逗留。",
	},
	{
		Key: "corridor", Kind: playlists.KindPSA, Image: "flame", DurationS: 12,
		Title: "楼道不堆放杂物",
		Body:  "楼道是着火时的逃生通道。纸箱、旧家具请及时清走；电动车不进楼道，不进家门充电。",
	},

	// 服务信息 (service notices)
	{
		Key: "water-cut", Kind: playlists.KindNotice, Image: "water-drop", DurationS: 15,
		Title: "停水通知",
		Body:  "因供水管道检修，本周三 9:00—17:00，3号楼、5号楼、7号楼暂停供水。请提前储水；恢复供水后先放水片刻再用。",
	},
	{
		Key: "legal-aid", Kind: playlists.KindNotice, Image: "scales", DurationS: 15,
		Title: "法律援助工作站 开放时间",
		Body:  "周一至周五 9:00—12:00，14:00—17:30，社区服务中心二楼。免费咨询婚姻家庭、讨薪、邻里纠纷。Free legal advice, Mon–Fri.",
	},
	{
		Key: "clinic", Kind: playlists.KindNotice, Image: "clinic", DurationS: 12,
		Title: "社区卫生站 义诊日",
		Body:  "每月第二个周六上午，免费量血压、测血糖、用药咨询。请带上医保卡。",
	},
	{
		Key: "elder-meals", Kind: playlists.KindNotice, DurationS: 12,
		Title: "长者食堂 开饭啦",
		Body:  "60 岁以上老人午餐 11:00—12:30，凭老年卡享受补贴。行动不便的，可打电话预约送餐上门。",
	},
	{
		Key: "sorting", Kind: playlists.KindNotice, DurationS: 10,
		Title: "垃圾分类 定时投放",
		Body:  "每天 7:00—9:00、18:00—20:00 定时投放。厨余垃圾请先沥干，去掉包装袋再投。",
	},

	// 法律故事 (legal stories)
	{
		Key: "law-of-month", Kind: playlists.KindLegalStory, DurationS: 15,
		Title: "每月一法：相邻关系",
		Body:  "民法典要求邻里之间在用水、排水、通行、采光上互相方便、公平合理。装修不能挡住别人家的窗，污水不能排进邻居院子。有了矛盾先商量，也可以找人民调解。",
	},
	{
		Key: "story-leak", Kind: playlists.KindLegalStory, DurationS: 14,
		Title: "楼上漏水 谁来赔？",
		Body:  "王阿姨家的天花板被渗水泡坏，调解员查明是楼上卫生间防水老化，楼上住户承担了维修费。遇到这种事，先拍照留证，再协商或申请调解。",
	},
	{
		Key: "story-wages", Kind: playlists.KindLegalStory, DurationS: 14,
		Title: "讨回三个月工钱",
		Body:  "老张在工地干了三个月，工钱一直被拖。他带着考勤记录和转账截图找到法律援助站，申请劳动仲裁后拿回了工资。打工请保存好考勤、聊天和转账记录。",
	},
	{
		Key: "story-throwing", Kind: playlists.KindLegalStory, DurationS: 12,
		Title: "高空抛物 害人害己",
		Body:  "从楼上往下扔东西，砸到人要赔偿，情节严重还可能被判刑。查不清是谁扔的，同一栋楼可能扔过的住户都要分担补偿。",
	},
}

// demoPlaylist lists items by key, in play order.
type demoPlaylist struct {
	Name  string
	Items []string
}

const (
	dailyPlaylist   = "日常轮播"
	morningPlaylist = "早间交通安全"
)

var demoPlaylists = []demoPlaylist{
	{
		// Alternates kinds so that two stories never follow each other and a
		// picture comes round every two or three items.
		Name: dailyPlaylist,
		Items: []string{
			"fraud-rebate", "legal-aid", "law-of-month", "corridor", "water-cut",
			"story-leak", "zebra", "clinic", "fraud-code", "story-wages",
			"elder-meals", "helmet", "fraud-safe-account", "story-throwing", "sorting",
		},
	},
	{
		// Weekday mornings are when children walk to school and commuters
		// ride e-bikes past the gate, so road safety gets the screen then.
		Name:  morningPlaylist,
		Items: []string{"school-road", "zebra", "helmet", "water-cut", "fraud-rebate"},
	},
}

// The demo's groups: a street and a compound under it. Group ids are chosen
// by the caller, so they are stable across runs.
var demoGroups = []playlists.Group{
	{ID: "xingfu-street", Name: "幸福街道", Timezone: playlists.DefaultTimezone},
	{ID: "xingfuli", Name: "幸福里小区", Parent: "xingfu-street"},
}

// demoSchedule binds a playlist (by name) to a target.
type demoSchedule struct {
	Playlist  string
	Target    playlists.Target
	Cron      string
	DurationS int
	Priority  int
}

var demoSchedules = []demoSchedule{
	// The fallback: every screen plays the daily loop whenever nothing more
	// urgent is scheduled.
	{Playlist: dailyPlaylist, Target: playlists.Target{All: true}, Priority: 0},
	// Monday to Friday 7:00–9:00 in the screen's time zone, on every screen
	// of the street (and so of the compound nested under it).
	{
		Playlist: morningPlaylist, Target: playlists.Target{Groups: []string{"xingfu-street"}},
		Cron: "0 7 * * 1-5", DurationS: 2 * 3600, Priority: 5,
	},
}

// demoDistrictName is what the screen's fallback page shows when nothing
// is scheduled.
const demoDistrictName = "幸福街道"

// The one screen the demo runs. Its name is how a second run with the same
// -data finds it again.
const (
	demoScreenName  = "幸福里小区 东门大屏"
	demoScreenGroup = "xingfuli"
)

var demoScreenTags = []string{"outdoor", "gate"}
