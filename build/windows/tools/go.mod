module github.com/pgsafe/pgsafe/build/windows/tools

go 1.26.0

require github.com/tc-hib/winres v0.3.1

require (
	github.com/nfnt/resize v0.0.0-20180221191011-83c6a9932646 // indirect
	golang.org/x/image v0.41.0 // indirect
)
