package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
)

// Mail bodies come from templates: for each mail type, <type>.txt (text/template; it defines
// "subject" and is itself the plain-text body) and <type>.html (html/template; it defines
// "content", which layout.html wraps). The files in templates/ are built in; MAIL_TEMPLATES_DIR
// may hold any of the same files to replace them one by one.

//go:embed templates
var embeddedTemplates embed.FS

// mailTypes lists every kind of mail the service sends; each must have both templates.
var mailTypes = []string{
	"verify-email", "reset-password", "change-email", "delete-account",
	"magic-link", "email-otp", "two-factor-otp", "organization-invitation",
}

type mailTemplate struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// mailTemplates maps a mail type to its templates.
type mailTemplates map[string]mailTemplate

var defaultMailTemplates = mustLoadDefaultTemplates()

func mustLoadDefaultTemplates() mailTemplates {
	t, err := loadMailTemplates("")
	if err != nil {
		panic(err) // the built-in templates are part of the binary; tests render each of them
	}
	return t
}

// mailData is what a template sees: the mail's fields (.Email, .URL, .Token, .OTP, .ID,
// .NewEmail, .OTPType), .ValidFor (how long its link or code works, in words, as configured)
// and, in the HTML layout, .Subject.
type mailData struct {
	mail
	ValidFor string
	Subject  string
}

// loadMailTemplates parses the templates, each file taken from dir when it is there, and renders a
// sample of every type so that a broken override fails at start, not at its first mail.
func loadMailTemplates(dir string) (mailTemplates, error) {
	if dir != "" {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("MAIL_TEMPLATES_DIR %q is not a directory", dir)
		}
	}
	read := func(name string) (string, error) {
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err == nil {
				return string(b), nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("MAIL_TEMPLATES_DIR: %w", err)
			}
		}
		b, err := embeddedTemplates.ReadFile("templates/" + name)
		return string(b), err
	}
	layout, err := read("layout.html")
	if err != nil {
		return nil, err
	}
	out := mailTemplates{}
	for _, typ := range mailTypes {
		text, err := read(typ + ".txt")
		if err != nil {
			return nil, err
		}
		html, err := read(typ + ".html")
		if err != nil {
			return nil, err
		}
		var t mailTemplate
		if t.text, err = texttemplate.New(typ + ".txt").Option("missingkey=error").Parse(text); err != nil {
			return nil, fmt.Errorf("mail template: %w", err)
		}
		if t.text.Lookup("subject") == nil {
			return nil, fmt.Errorf("mail template %s.txt: no {{define \"subject\"}}", typ)
		}
		if t.html, err = htmltemplate.New("layout.html").Option("missingkey=error").Parse(layout); err != nil {
			return nil, fmt.Errorf("mail template: %w", err)
		}
		if _, err = t.html.New(typ + ".html").Parse(html); err != nil {
			return nil, fmt.Errorf("mail template: %w", err)
		}
		out[typ] = t
	}
	sample := mail{Email: "user@example.com", URL: "https://example.com/link", Token: "token", OTP: "123456",
		ID: "id", NewEmail: "new@example.com", OTPType: "sign-in"}
	for _, typ := range mailTypes {
		sample.Type = typ
		if _, _, _, err := out.render(sample, "one hour"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// render returns the subject (one line) and the two bodies of m, whose link or code works for
// validFor.
func (ts mailTemplates) render(m mail, validFor string) (subject, text, html string, err error) {
	t, ok := ts[m.Type]
	if !ok {
		return "", "", "", fmt.Errorf("no mail template for type %q", m.Type)
	}
	data := mailData{mail: m, ValidFor: validFor}
	var buf bytes.Buffer
	if err := t.text.ExecuteTemplate(&buf, "subject", data); err != nil {
		return "", "", "", fmt.Errorf("render %s subject: %w", m.Type, err)
	}
	// A subject is a header: it gets one line whatever the template says.
	data.Subject = strings.Join(strings.Fields(buf.String()), " ")
	buf.Reset()
	if err := t.text.Execute(&buf, data); err != nil {
		return "", "", "", fmt.Errorf("render %s.txt: %w", m.Type, err)
	}
	text = strings.TrimSpace(buf.String()) + "\n"
	buf.Reset()
	if err := t.html.Execute(&buf, data); err != nil {
		return "", "", "", fmt.Errorf("render %s.html: %w", m.Type, err)
	}
	return data.Subject, text, buf.String(), nil
}
