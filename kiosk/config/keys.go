package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var durationType = reflect.TypeOf(time.Duration(0))

// Keys lists every setting as a dotted key, in file order.
func Keys() []string {
	var out []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key := prefix + f.Tag.Get("toml")
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(key+".", f.Type)
				continue
			}
			out = append(out, key)
		}
	}
	walk("", reflect.TypeOf(Config{}))
	return out
}

// field finds the settable value for a dotted key.
func (c *Config) field(key string) (reflect.Value, error) {
	v := reflect.ValueOf(c).Elem()
	for _, part := range strings.Split(key, ".") {
		if v.Kind() != reflect.Struct || v.Type() == durationType {
			return reflect.Value{}, fmt.Errorf("%w: %q", ErrUnknownKey, key)
		}
		found := false
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Tag.Get("toml") == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, fmt.Errorf("%w: %q", ErrUnknownKey, key)
		}
	}
	if v.Kind() == reflect.Struct && v.Type() != durationType {
		return reflect.Value{}, fmt.Errorf("%w: %q is a section, not a setting", ErrUnknownKey, key)
	}
	return v, nil
}

// Get returns a setting as text, in the form Set accepts.
func (c Config) Get(key string) (string, error) {
	v, err := c.field(key)
	if err != nil {
		return "", err
	}
	if v.Type() == durationType {
		return time.Duration(v.Int()).String(), nil
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), nil
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), nil
	}
	return "", fmt.Errorf("config: %s has unsupported type %s", key, v.Type())
}

// Set parses value for the setting and validates the whole configuration;
// on any error c is left unchanged.
func (c *Config) Set(key, value string) error {
	next := *c
	v, err := next.field(key)
	if err != nil {
		return err
	}
	if v.Type() == durationType {
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%w: %s: %q is not a duration such as 60s or 2m: %w", ErrInvalid, key, value, err)
		}
		v.SetInt(int64(d))
	} else {
		switch v.Kind() {
		case reflect.String:
			v.SetString(value)
		case reflect.Bool:
			b, err := strconv.ParseBool(strings.TrimSpace(value))
			if err != nil {
				return fmt.Errorf("%w: %s: %q is not true or false", ErrInvalid, key, value)
			}
			v.SetBool(b)
		case reflect.Int:
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				return fmt.Errorf("%w: %s: %q is not a whole number", ErrInvalid, key, value)
			}
			v.SetInt(int64(n))
		case reflect.Float64:
			f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return fmt.Errorf("%w: %s: %q is not a number", ErrInvalid, key, value)
			}
			v.SetFloat(f)
		default:
			return fmt.Errorf("config: %s has unsupported type %s", key, v.Type())
		}
	}
	if err := next.Validate(); err != nil {
		return err
	}
	*c = next
	return nil
}
