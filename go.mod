module github.com/gopear/gopear

go 1.26.8

require golang.org/x/crypto v0.59.0

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
