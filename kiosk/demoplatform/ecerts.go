package demoplatform

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/local"
)

// demoCert is a fictional e-certificate of a demo card's holder.
type demoCert struct {
	number, typeCode, typeName, agencyCode, agencyName, id, name string
	validDays                                                    int
	fields                                                       []ecert.Field
}

// demoCerts: 王晓梅 (the "resident" card) holds a 居住证, so 城乡居民医保
// 参保 takes it without a scan; 艾尔肯·测试 (the "elder" card) holds a
// 户口簿, which 最低生活保障 and 独生子女奖励 ask for. All fictional.
var demoCerts = []demoCert{
	{"DEMO-JZZ-0001", "11440000MB2D00001L002", "广东省居住证", "11441900000000103M", "东莞市公安局示例镇派出所（示例）",
		"440305199006120240", "王晓梅", 365, []ecert.Field{{Name: "姓名", Value: "王晓梅"}, {Name: "居住地址", Value: "东莞市示例镇示例路1号（示例）"}}},
	{"DEMO-HKB-0001", "11100000MB0143028R001", "居民户口簿", "11441900000000109H", "东莞市公安局示例镇派出所户籍室（示例）",
		"650102195201080134", "艾尔肯·测试", 0, []ecert.Field{{Name: "户主姓名", Value: "艾尔肯·测试"}, {Name: "户别", Value: "家庭户"}}},
}

// seedAgencyKeys makes the demo agencies' seal keys (the sample catalog's
// 居住证 agency among them, so approving a 居住证申领 issues one) before
// the platform opens, so it trusts them.
func seedAgencyKeys(dir string) error {
	kr := ecert.Keyring{Dir: filepath.Join(dir, local.ECertDir, "agencies")}
	for _, c := range demoCerts {
		if _, err := kr.Generate(c.agencyCode, c.agencyName); err != nil && !errors.Is(err, ecert.ErrExists) {
			return fmt.Errorf("demo agency key: %w", err)
		}
	}
	return nil
}

// seedECerts issues the demo cards' certificates, once per data directory.
func seedECerts(ctx context.Context, dir string, p *local.Platform) error {
	ref, err := local.OpenECerts(dir, p.Store, nil)
	if err != nil {
		return err
	}
	for _, c := range demoCerts {
		if _, err := ref.Fetch(ctx, c.number); err == nil {
			continue
		}
		if _, err := ref.Issue(ctx, ecert.Draft{TypeCode: c.typeCode, TypeName: c.typeName, IDNumber: c.id, Name: c.name, Number: c.number,
			Agency: ecert.Agency{Code: c.agencyCode, Name: c.agencyName}, IssuedOn: time.Now().AddDate(0, -1, 0), ValidDays: c.validDays, Fields: c.fields}); err != nil {
			return fmt.Errorf("demo certificate %s: %w", c.number, err)
		}
	}
	return nil
}
