package idcard

import (
	"errors"
	"fmt"
	"time"

	"onedoor/pii"
)

var (
	// ErrInvalidCard means the decoded fields are inconsistent or
	// implausible: the card (or the read) cannot be trusted.
	ErrInvalidCard = errors.New("idcard: card data invalid")
	// ErrExpired means a genuine-looking card whose validity has ended.
	// It is kept apart from ErrInvalidCard because the resident needs a
	// different message ("your card expired on …, please renew it").
	ErrExpired = errors.New("idcard: card expired")
)

// Validate checks the decoded identity at the given moment: ID number
// (check digit, birth date, region prefix for the card type, sex parity),
// birth date, validity dates. It returns an error wrapping ErrInvalidID or
// ErrInvalidCard for bad data, and one wrapping ErrExpired, and nothing
// else, for an otherwise valid card whose validity ended before now's date.
func (id *Identity) Validate(now time.Time) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidCard, fmt.Sprintf(format, a...))
	}
	if id.Name == "" && id.EnglishName == "" {
		return bad("no name")
	}
	if SexName(id.SexCode) == "" {
		return bad("sex code %q", id.SexCode)
	}
	birth, err := ParseDate(id.BirthDate)
	if err != nil {
		return bad("birth date: %v", err)
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if birth.After(today) {
		return bad("birth date %s is in the future", id.BirthDate)
	}

	switch id.Type {
	case Resident, HKMOTW, Foreign2023:
		if err := pii.ValidateIDNumber(id.IDNumber, now); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidID, err)
		}
		prefix := id.IDNumber[:2]
		switch {
		case id.Type == Resident && !provinceCode(prefix):
			return fmt.Errorf("%w: region %s is not a province code", ErrInvalidID, prefix)
		case id.Type == HKMOTW && prefix != "81" && prefix != "82" && prefix != "83":
			return fmt.Errorf("%w: residence permit number must start 81/82/83, not %s", ErrInvalidID, prefix)
		case id.Type == Foreign2023 && id.IDNumber[0] != '9':
			return fmt.Errorf("%w: 2023 foreigner card number must start with 9", ErrInvalidID)
		}
		if id.IDNumber[6:14] != id.BirthDate {
			return fmt.Errorf("%w: birth date in number %s differs from card %s", ErrInvalidID, id.IDNumber[6:14], id.BirthDate)
		}
		// The 17th digit is odd for men and even for women. The 2023
		// foreigner number's sex digit is not confirmed by our sources, so
		// it is not held against the card.
		if id.Type != Foreign2023 && (id.SexCode == "1" || id.SexCode == "2") {
			odd := (id.IDNumber[16]-'0')%2 == 1
			if odd != (id.SexCode == "1") {
				return fmt.Errorf("%w: sex digit %c does not match sex %s", ErrInvalidID, id.IDNumber[16], id.Sex)
			}
		}
		if id.Type == Resident && NationName(id.NationCode) == "" {
			return bad("nation code %q", id.NationCode)
		}
		if id.Type == HKMOTW && id.PermitNumber == "" {
			return bad("no travel permit number")
		}
	case Foreign2017:
		if err := validateForeign2017Number(id.IDNumber, id.Nationality); err != nil {
			return err
		}
	default:
		return bad("card type %q", id.Type)
	}

	from, err := ParseDate(id.ValidFrom)
	if err != nil {
		return bad("valid from: %v", err)
	}
	if id.ValidTo == LongTerm {
		return nil
	}
	to, err := ParseDate(id.ValidTo)
	if err != nil {
		return bad("valid to: %v", err)
	}
	if to.Before(from) {
		return bad("validity ends %s before it starts %s", id.ValidTo, id.ValidFrom)
	}
	if to.Before(today) {
		return fmt.Errorf("%w on %s", ErrExpired, to.Format("2006-01-02"))
	}
	return nil
}

// validateForeign2017Number checks the 15-character number: three letters
// of the nationality code and twelve digits. Its check digit scheme is not
// confirmed by our sources, so it is not verified.
func validateForeign2017Number(num, nationality string) error {
	if len(num) != 15 {
		return fmt.Errorf("%w: 2017 foreigner card number has %d characters, want 15", ErrInvalidID, len(num))
	}
	for i := range 15 {
		c := num[i]
		if i < 3 && (c < 'A' || c > 'Z') || i >= 3 && (c < '0' || c > '9') {
			return fmt.Errorf("%w: 2017 foreigner card number must be 3 letters and 12 digits", ErrInvalidID)
		}
	}
	if nationality != "" && num[:3] != nationality {
		return fmt.Errorf("%w: number starts %s but nationality is %s", ErrInvalidID, num[:3], nationality)
	}
	return nil
}
